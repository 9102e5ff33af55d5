import type { RestoreS3Input } from '.';
import { replicaRunbook } from './replica';
import { undeleteRunbook } from './undelete';

/** Undelete, or copy back from the replica with --from-replica. */
export const runbook = (input: RestoreS3Input) => (input.fromReplica ? replicaRunbook : undeleteRunbook);
