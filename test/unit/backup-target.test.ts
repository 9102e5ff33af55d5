import { backupTargetOf } from '../../src/alarms/backup-target';
import { alarmButtons } from '../../src/alarms/views';

const alarm = (name: string, functionName?: string) => ({ name, ...(functionName ? { functionName } : {}) });

describe('backupTargetOf (the backup a failed-backup alarm reruns)', () => {
  it.each([
    [alarm('spawn-backup-failures', 'spawn-ami-backup'), 'backup-amis', 'Run AMI backup now'],
    [alarm('spawn-backup-failures', 'ami-backup'), 'backup-amis', 'Run AMI backup now'],
    [alarm('spawn-iam-export-failed'), 'backup-iam', 'Run IAM export now'],
    [alarm('x', 'spawn-route53-export'), 'backup-route53', 'Run Route53 export now'],
    [alarm('spawn-lambda-backup-errors'), 'backup-lambda', 'Run Lambda export now'],
    [alarm('spawn-dynamodb-backup-failed'), 'backup-dynamodb', 'Back up DynamoDB now'],
  ])('%j → %s', (a, verb, label) => {
    // act / assess
    expect(backupTargetOf(a)).toEqual({ verb, label });
  });

  it('prefers what the function says over the alarm name, and guesses nothing when neither says', () => {
    // act / assess
    expect(backupTargetOf(alarm('spawn-dynamodb-and-ami-failures', 'spawn-iam-export'))?.verb).toBe('backup-iam');
    expect(backupTargetOf(alarm('spawn-backup-failures', 'spawn-dns-updater'))).toBeUndefined();
    expect(backupTargetOf(alarm('spawn-backup-failures'))).toBeUndefined();
    expect(backupTargetOf(alarm('spawn-gamification-backup'))).toBeUndefined();
  });

  it('offers no Run button on a backup failure that names no backup', () => {
    // act
    const ids = alarmButtons({ id: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:x', kind: 'backup-failure', state: 'ALARM', alarm: alarm('spawn-backup-failures') }).map((b) => b.action_id);

    // assess
    expect(ids).toEqual(['alarm_view_logs', 'alarm_ack']);
  });
});
