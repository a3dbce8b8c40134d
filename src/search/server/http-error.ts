// An error that becomes an HTTP answer: its status and a one-line message for the client (whatever the
// status: a 500 of this kind is written for the client too), and headers for the answer.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
