/**
 * Named errors with a stable code. Everything a user can see goes through `userMessage`;
 * `toUserMessage` maps any thrown value to words in one place.
 */
export class DrbotError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** How to fix it, shown under the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends DrbotError {
  constructor(message: string) {
    super('config_invalid', message, 'Fix the config file and start again.');
  }
}

export class UsageError extends DrbotError {
  constructor(message: string, readonly usage?: string) {
    super('usage', message, usage ? `Usage: \`${usage}\`` : 'Try `/dr help`.');
  }
}

export class ForbiddenError extends DrbotError {
  constructor(message: string) {
    super('forbidden', message, 'Ask an admin to add you to the right role in the drbot config.');
  }
}

export class UnknownResourceError extends DrbotError {
  constructor(kind: 'bucket' | 'table' | 'alarm' | 'approval' | 'run' | 'zone' | 'function' | 'region' | 'verb', name: string, known: string[] = []) {
    const list = known.length ? ` Known: ${known.slice(0, 10).map((k) => `\`${k}\``).join(', ')}${known.length > 10 ? ', …' : ''}.` : '';
    super(`unknown_${kind}`, `Unknown ${kind} \`${name}\`.${list}`, `Add it to the drbot config or check the spelling.`);
  }
}

export class PreconditionError extends DrbotError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, hint);
  }
}

/** An AWS call failed; `resource` names what we were touching. */
export class AwsCallError extends DrbotError {
  constructor(
    readonly operation: string,
    readonly resource: string,
    readonly awsCode: string,
    message: string,
  ) {
    super(AwsCallError.codeFor(awsCode), `${operation} on \`${resource}\` failed: ${message}`, AwsCallError.hintFor(awsCode, operation));
  }

  static codeFor(awsCode: string): string {
    if (/AccessDenied|UnauthorizedOperation|AuthorizationError/i.test(awsCode)) return 'aws_access_denied';
    if (/Throttl|SlowDown|RequestLimitExceeded|TooManyRequests|ProvisionedThroughputExceeded/i.test(awsCode)) return 'aws_throttled';
    if (/NoSuchBucket|ResourceNotFound|NotFound|NoSuch/i.test(awsCode)) return 'aws_not_found';
    return 'aws_error';
  }

  static hintFor(awsCode: string, operation: string): string {
    switch (AwsCallError.codeFor(awsCode)) {
      case 'aws_access_denied':
        return `Grant the bot's role permission for \`${operation}\` on this resource (see template.yaml).`;
      case 'aws_throttled':
        return 'AWS is throttling; wait a minute and run it again.';
      case 'aws_not_found':
        return 'Check that the resource exists in the configured region.';
      default:
        return 'Check the AWS console or the bot logs with the correlation id.';
    }
  }
}

export function isErrorLike(e: unknown): e is { name: string; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

/** Wrap an AWS SDK failure in an AwsCallError, leaving our own errors untouched. */
export function wrapAws(e: unknown, operation: string, resource: string): Error {
  if (e instanceof DrbotError) return e;
  if (isErrorLike(e)) {
    const code = (e as { name: string; Code?: string }).Code ?? e.name;
    return new AwsCallError(operation, resource, code, e.message);
  }
  return new AwsCallError(operation, resource, 'Unknown', String(e));
}

/**
 * Whether an AWS answer was throttled: an error AWS names so (SlowDown, Throttling…, or a 503), our
 * own wrapped throttling error, or a success the SDK only got after retrying.
 */
export function wasThrottled(answer: { $metadata?: { attempts?: number } } | undefined, error?: unknown): boolean {
  if (error !== undefined) {
    const e = error as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    // `code` holds our own 'aws_throttled', which codeFor's /Throttl/ matches, or an AWS code on older errors.
    return [e.name, e.Code, e.code].some((c) => c !== undefined && AwsCallError.codeFor(c) === 'aws_throttled') || e.$metadata?.httpStatusCode === 503;
  }
  return (answer?.$metadata?.attempts ?? 1) > 1;
}

/** Text ending as a sentence: a period added unless it ends in one (AWS's messages often do not). */
export function sentence(text: string): string {
  return /[.!?]$/.test(text.trimEnd()) ? text : `${text.trimEnd()}.`;
}

/** A failure's message and its hint, as one paragraph: "<message>. <hint>". */
export function withHint(f: { message: string; hint?: string | undefined }): string {
  return f.hint ? `${sentence(f.message)} ${f.hint}` : f.message;
}

/** The words a user sees for any failure, with a correlation id. Never a stack trace. */
export function toUserMessage(e: unknown, correlationId: string): string {
  if (e instanceof DrbotError) {
    // A refusal is not a failure: it looks the same whether a command or a button was refused.
    return `${e.code === 'forbidden' ? ':no_entry_sign:' : ':x:'} ${e.message}${e.hint ? `\n${e.hint}` : ''}\n_ref: ${correlationId}_`;
  }
  return `:x: Something went wrong on our side. The on-call can grep the logs for \`${correlationId}\`.`;
}
