import { DeleteSnapshotCommand, DeregisterImageCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { describeAllImages, tagOf } from '../../aws/ec2';
import { AwsCallError, DrbotError, isErrorLike, wrapAws } from '../../errors';
import type { Copy } from '../retention';

/*
 * Retention adapter for AMI copies in the backup region. drbot's are the images it tags
 * `backup=true`, `source-ami=<id>` and `drbot-run=<run id>` and names `<name>-backup-<yyyymmdd>`
 * (backup-amis/runbook.ts): all four, or the image is someone else's and never touched. A copy is
 * deleted by deregistering the image and then deleting each EBS snapshot it was made of; the
 * snapshots are read before the image goes (after it, nothing says which they were).
 */

const NAME = /^.+-backup-\d{8}$/;
const RUN_ID = /^r-[0-9a-f]{12}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

/** Whether drbot made this image: its three tags and its name pattern. */
export function isOurCopy(image: Image): boolean {
  return tagOf(image, 'backup') === 'true' && RUN_ID.test(tagOf(image, 'drbot-run') ?? '') && AMI_ID.test(tagOf(image, 'source-ami') ?? '') && NAME.test(image.Name ?? '');
}

/** available is a usable copy; pending and transient are still being made; failed, invalid, error and disabled are not usable. */
export function copyState(image: Image): Copy['state'] {
  switch (image.State) {
    case 'available':
      return 'good';
    case 'failed':
    case 'invalid':
    case 'error':
    case 'disabled':
      return 'failed';
    default:
      return 'pending';
  }
}

/** The EBS snapshots an image was made of (its block device mappings). */
export function snapshotsOf(image: Image): string[] {
  return (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** The backup region's images tagged backup=true (deregistered ones left out), as copies grouped by their source image. */
export function amiCopies(images: readonly Image[]): Copy[] {
  return images
    .filter((im) => im.ImageId && im.State !== 'deregistered')
    .map((im) => ({
      id: im.ImageId ?? '',
      group: tagOf(im, 'source-ami') ?? im.ImageId ?? '',
      createdAt: im.CreationDate ?? '',
      state: copyState(im),
      ours: isOurCopy(im),
      label: `${im.ImageId ?? ''} ${im.Name ?? ''}`.trim(),
    }));
}

/** EC2's answers for an image that is gone (or going). */
const GONE_IMAGE = /^InvalidAMIID\.(NotFound|Unavailable)$/;
const code = (e: unknown): string => (isErrorLike(e) ? ((e as { Code?: string }).Code ?? e.name) : '');
/** Throttling or a 5xx: worth the step's retries (the whole delete again: the image is gone by then, the plan names the snapshots). */
const transient = (e: unknown): boolean =>
  /Throttl|RequestLimitExceeded/.test(code(e)) || (e as { $fault?: string }).$fault === 'server' || ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0) >= 500;

/**
 * Deletes one copy: reads it again (it must still be drbot's), deregisters it, then deletes its
 * snapshots. `planned` are the snapshots the plan read (checkpointed with it), so a step replayed
 * after the image is gone still deletes them. An image or snapshot already gone counts as done.
 */
export async function deleteAmiCopy(ec2: EC2Client, imageId: string, planned: readonly string[]): Promise<{ snapshots: string[] }> {
  let found: Image | undefined;
  try {
    found = (await describeAllImages(ec2, { ImageIds: [imageId] }, imageId)).find((im) => im.ImageId === imageId && im.State !== 'deregistered');
  } catch (e) {
    // AWS answers InvalidAMIID.NotFound for an ID it no longer knows: the image is gone. Any other
    // answer (InvalidAMIID.Malformed included) says nothing of it, so nothing is deleted.
    if (!(e instanceof AwsCallError && GONE_IMAGE.test(e.awsCode))) throw e;
  }
  if (found && !isOurCopy(found)) {
    throw new DrbotError('not_ours', `\`${imageId}\` no longer carries drbot's tags, so it is not deleted.`, 'Someone changed its tags after the plan; delete it by hand if it should go.');
  }
  const snapshots = [...new Set([...planned, ...(found ? snapshotsOf(found) : [])])];
  if (found) {
    try {
      await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    } catch (e) {
      // Gone already (a replayed step, or someone else): what is left is its snapshots.
      if (!GONE_IMAGE.test(code(e))) throw wrapAws(e, 'DeregisterImage', imageId);
    }
  }
  const left: string[] = [];
  for (const snap of snapshots) {
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap }));
    } catch (e) {
      if (code(e) === 'InvalidSnapshot.NotFound') continue;
      if (transient(e)) throw wrapAws(e, 'DeleteSnapshot', snap);
      left.push(`${snap} (${code(e) || 'error'})`);
    }
  }
  if (left.length) {
    throw new DrbotError(
      'snapshot_not_deleted',
      `\`${imageId}\` is deregistered but ${left.length === 1 ? 'its snapshot' : 'snapshots'} ${left.join(', ')} could not be deleted.`,
      'With the image gone a later prune cannot find them: delete them in the EC2 console (Snapshots, in the backup region).',
    );
  }
  return { snapshots };
}
