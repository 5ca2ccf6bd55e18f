/**
 * One call of an AWS JSON 1.0 API (DynamoDB's, SQS's): a POST of the input as JSON to the endpoint's root, the
 * operation named by `x-amz-target: <prefix>.<Operation>`, the answer's JSON back. Signing, retries and errors are
 * ./signed-http.ts's.
 */
import type { CallLimits, SignedHttpClient } from "./signed-http";

const CONTENT_TYPE = "application/x-amz-json-1.0";

export interface JsonAnswer {
  output: Record<string, unknown>;
  $metadata: { httpStatusCode: number; attempts: number };
}

export async function awsJsonCall(http: SignedHttpClient, target: string, input: unknown, limits: CallLimits): Promise<JsonAnswer> {
  const response = await http.request({
    method: "POST",
    path: "/",
    headers: { "content-type": CONTENT_TYPE, "x-amz-target": target },
    body: Buffer.from(JSON.stringify(input), "utf8"),
    ...limits,
  });
  const output = response.body.length > 0 ? (JSON.parse(response.body.toString("utf8")) as Record<string, unknown>) : {};
  return { output, $metadata: { httpStatusCode: response.status, attempts: response.attempts } };
}
