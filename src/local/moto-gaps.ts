import type { MiddlewareStack } from '@smithy/types';
import type { AwsClients } from '../aws/clients';
import type { DrConfig } from '../config/schema';

/*
 * Where moto lacks an AWS call the sandbox needs, a middleware on the sandbox's own client answers it
 * with AWS's shapes (never against real AWS: npm start installs these only in sandbox mode).
 */

/**
 * moto has AWS Backup plans and vaults but no selections: this answers the four selection calls in
 * memory with AWS's shapes, and lets every other Backup call through to moto.
 */
export function selectionsInMemory<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): Map<string, { id: string; name: string; role: string; resources: string[] }[]> {
  const byPlan = new Map<string, { id: string; name: string; role: string; resources: string[] }[]>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { BackupPlanId?: string; SelectionId?: string; BackupSelection?: { SelectionName?: string; IamRoleArn?: string; Resources?: string[] } };
      const planId = input.BackupPlanId ?? '';
      const list = byPlan.get(planId) ?? [];
      const answer = (output: object) => ({ output: { $metadata: {}, ...output } as unknown as O, response: {} });
      switch (context.commandName) {
        case 'ListBackupSelectionsCommand':
          return answer({ BackupSelectionsList: list.map((x) => ({ SelectionId: x.id, SelectionName: x.name, BackupPlanId: planId, IamRoleArn: x.role })) });
        case 'GetBackupSelectionCommand': {
          const x = list.find((y) => y.id === input.SelectionId);
          return answer({ BackupPlanId: planId, SelectionId: x?.id, BackupSelection: { SelectionName: x?.name, IamRoleArn: x?.role, Resources: x?.resources } });
        }
        case 'CreateBackupSelectionCommand': {
          const id = `sel-${list.length + 1}`;
          byPlan.set(planId, [...list, { id, name: input.BackupSelection?.SelectionName ?? '', role: input.BackupSelection?.IamRoleArn ?? '', resources: input.BackupSelection?.Resources ?? [] }]);
          return answer({ SelectionId: id, BackupPlanId: planId });
        }
        case 'DeleteBackupSelectionCommand':
          byPlan.set(planId, list.filter((y) => y.id !== input.SelectionId));
          return answer({});
        default:
          return next(args);
      }
    },
    { step: 'initialize', name: 'moto-backup-selections' },
  );
  return byPlan;
}


/**
 * moto accepts UpdateTable's ReplicaUpdates but has no global tables: this remembers the replicas a
 * table was given and shows them, ACTIVE, in DescribeTable, as AWS does once it has copied the table.
 */
export function globalTableReplicas<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
  const replicas = new Map<string, Set<string>>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; ReplicaUpdates?: { Create?: { RegionName?: string } }[] };
      const table = input.TableName ?? '';
      if (context.commandName === 'UpdateTableCommand' && input.ReplicaUpdates?.length) {
        const regions = replicas.get(table) ?? new Set<string>();
        for (const u of input.ReplicaUpdates) if (u.Create?.RegionName) regions.add(u.Create.RegionName);
        replicas.set(table, regions);
        // Whatever else the call changes still goes to moto, without the replicas it cannot make.
        const others = Object.keys(input).filter((k) => k !== 'TableName' && k !== 'ReplicaUpdates');
        if (others.length) return next({ ...args, input: Object.assign({}, args.input, { ReplicaUpdates: undefined }) });
        return { output: { $metadata: {}, TableDescription: { TableName: table } } as unknown as O, response: {} };
      }
      const result = await next(args);
      const regions = context.commandName === 'DescribeTableCommand' ? replicas.get(table) : undefined;
      const out = result.output as { Table?: { Replicas?: { RegionName: string; ReplicaStatus: string }[] } };
      if (regions?.size && out.Table) out.Table.Replicas = [...regions].map((RegionName) => ({ RegionName, ReplicaStatus: 'ACTIVE' }));
      return result;
    },
    { step: 'initialize', name: 'moto-global-table-replicas' },
  );
}

/**
 * moto has no AWS Backup jobs (its server answers DescribeBackupJob with a page, not JSON): the
 * sandbox answers as AWS does for a job it does not know, so `/dr backup retry` says so plainly.
 */
export function noBackupJobs<I extends object, O extends object>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DescribeBackupJobCommand') return next(args);
      const id = String((args.input as { BackupJobId?: unknown }).BackupJobId ?? '');
      throw Object.assign(new Error(`Cannot find backup job ${id} (the sandbox has no AWS Backup jobs)`), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    },
    { step: 'initialize', name: 'moto-no-backup-jobs' },
  );
}

/** The sandbox's stand-ins for moto's gaps, on the clients of both configured regions. */
export function coverMotoGaps(clients: AwsClients, config: DrConfig): void {
  for (const region of new Set([config.regions.primary, config.regions.backup])) {
    selectionsInMemory(clients.backup(region));
    noBackupJobs(clients.backup(region));
    globalTableReplicas(clients.dynamodb(region));
  }
}
