/** How every failed message is answered: the HTTP status it maps to, a stable code and a safe message. */
export interface RpcErrorBody {
  status: number;
  error: string;
  message: string | string[];
}

export function isRpcErrorBody(value: unknown): value is RpcErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RpcErrorBody).status === 'number' &&
    typeof (value as RpcErrorBody).error === 'string'
  );
}
