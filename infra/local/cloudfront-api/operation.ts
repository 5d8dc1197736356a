import type { CloudFrontModel } from './model.ts';
import type { CloudFrontRecords } from './records.ts';
import type { Reply } from './replies.ts';

/**
 * What an operation reads: the records and the settings they are checked against. Not the model
 * itself, so no operation can commit: the stand-in does, once, after the operation returned.
 */
export type OperationContext = Pick<
  CloudFrontModel,
  'records' | 'quotas' | 'callerReferenceReplay' | 'accountId' | 'now'
>;

/** An operation's answer, and for a write the whole state after it (the stand-in commits it). */
export interface OperationResult {
  readonly reply: Reply;
  readonly records?: CloudFrontRecords;
}
