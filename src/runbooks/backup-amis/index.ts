import { dryRun, flag } from '../args';
import { defineVerb, type RunOf } from '../verb';

/** `/dr backup amis`: copies of the tagged images to the backup region, waited on until available. */
export const verb = defineVerb({
  id: 'backup-amis',
  words: ['backup', 'amis'],
  group: 'Back up',
  summary: 'copy every tagged AMI of the primary region to the backup region',
  example: '/dr backup amis --dry-run',
  role: 'operator',
  destructive: false,
  approvalWith: 'prune',
  details:
    'Copies each image the account owns in the primary region that carries the config\'s `ami.tagKey`=`ami.tagValue` to the backup region as `<name>-backup-<UTC yyyymmdd>` (a name too long for AMI names\' 128 characters cut, with the source image ID kept before the suffix), tagged `backup=true`, `source-ami` and `drbot-run`. An image already copied today is skipped. Waits until each copy is available; a failed copy is reported with its reason while the others go on. Changes no source image. With `--prune` it also deletes: the plan lists drbot\'s copies past `retention.amiCopyDays` (tagged `backup=true`, `source-ami`, `drbot-run` and named `…-backup-<date>`), which after approval are deregistered and their EBS snapshots deleted for good; the newest available copy of each image and every image drbot did not make are never touched.',
  args: {
    prune: flag('boolean', 'prune', "also deregister drbot's copies older than `retention.amiCopyDays` and delete their snapshots, keeping the newest of each image (needs approval)"),
    dryRun: { ...dryRun, help: 'post the plan only; copy nothing' },
  },
  input: (a) => ({ dryRun: a.dryRun, prune: a.prune }),
});

export type BackupAmisInput = RunOf<typeof verb>;
