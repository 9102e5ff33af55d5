import type { AlarmModel } from './model';

/** The backup a failed-backup alarm stands for: the verb that reruns it, and the words its button shows. */
export interface BackupTarget {
  verb: string;
  label: string;
}

/** Matched against the alarm's function name (its FunctionName dimension), then its own name. */
const TARGETS: readonly (BackupTarget & { re: RegExp })[] = [
  { re: /(^|[-_ ])(amis?|images?)([-_ ]|$)/, verb: 'backup-amis', label: 'Run AMI backup now' },
  { re: /(^|[-_ ])iam([-_ ]|$)/, verb: 'backup-iam', label: 'Run IAM export now' },
  { re: /(^|[-_ ])(route-?53|zone)([-_ ]|$)/, verb: 'backup-route53', label: 'Run Route53 export now' },
  { re: /(^|[-_ ])lambda[-_ ](backup|export)/, verb: 'backup-lambda', label: 'Run Lambda export now' },
  { re: /(^|[-_ ])(dynamo(db)?|tables?)([-_ ]|$)/, verb: 'backup-dynamodb', label: 'Back up DynamoDB now' },
];

/**
 * Which backup failed: the AMI backup for `spawn-ami-backup`, the IAM export for an IAM one, and so
 * on. Undefined when neither the function nor the alarm's name says, so no button runs the wrong backup.
 */
export function backupTargetOf(alarm: Pick<AlarmModel, 'name' | 'functionName' | 'metric'>): BackupTarget | undefined {
  const fn = (alarm.functionName ?? alarm.metric?.dimensions?.FunctionName ?? '').toLowerCase();
  for (const text of [fn, alarm.name.toLowerCase()]) {
    const hit = text ? TARGETS.find((t) => t.re.test(text)) : undefined;
    if (hit) return { verb: hit.verb, label: hit.label };
  }
  return undefined;
}
