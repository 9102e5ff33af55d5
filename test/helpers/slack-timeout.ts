import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { SANDBOX_CHANNEL } from '../../src/local/sandbox';
import { textOf, useLocalStack } from './flow';

/**
 * A sandbox stack whose Slack client gives up after 200 ms and whose runs retry Slack `attempts`
 * times, for the Slack-timeout tests; the stand-in's fault is cleared after each test. With the
 * readings those tests assert on: backups of the table, a run's result in the audit, its messages.
 */
export function useSlackTimeoutStack(attempts: number, table: string) {
  const getStack = useLocalStack({ slackTimeoutMs: 200, slackRetry: { attempts, baseDelayMs: 10, maxWaitMs: 50 } });
  afterEach(() => {
    delete getStack().standIn.fault;
  });
  return {
    getStack,
    backups: async () => (await getStack().clients.dynamodb('us-east-1').send(new ListBackupsCommand({ TableName: table }))).BackupSummaries?.length ?? 0,
    resultAudit: async (runId: string) => (await getStack().store.listAudit(200)).filter((e) => e.runId === runId && e.action === 'result'),
    runMessages: (runId: string) => getStack().standIn.channelMessages(SANDBOX_CHANNEL).filter((m) => textOf(m).includes(runId)),
  };
}

