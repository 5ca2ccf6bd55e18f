import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { Context } from "aws-lambda";
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFunctions } from "../../../runtime/local/emulators/functions";
import { IdentityIssuer, type BadTokenKind } from "../../../runtime/local/emulators/identity";
import { functionNameOf, LambdaEmulator } from "../../../runtime/local/emulators/lambda";
import { waitFor } from "../helpers";

describe("local/lambda: the Lambda Invoke API through @aws-sdk/client-lambda", function () {
  this.timeout(10_000);
  const ran: Array<{ event: unknown; remaining: number; name: string; requestId: string }> = [];
  const functions = new LocalFunctions("us-east-1", "000000000000", [
    {
      name: "worker",
      timeoutMs: 3_000,
      load: async () => async (event: unknown, context: Context) => {
        await new Promise((r) => setTimeout(r, 30));
        ran.push({ event, remaining: context.getRemainingTimeInMillis(), name: context.functionName, requestId: context.awsRequestId });
        return { ok: true, echo: event };
      },
    },
    {
      name: "failing",
      timeoutMs: 3_000,
      load: async () => async () => {
        throw new TypeError("bad input");
      },
    },
    { name: "sleepy", timeoutMs: 100, load: async () => () => new Promise((r) => setTimeout(r, 500)) },
  ]);
  let emulator: LambdaEmulator;
  let client: LambdaClient;
  before(async () => {
    emulator = await new LambdaEmulator({ functions, onAsyncError: () => undefined }).start();
    client = new LambdaClient({ endpoint: emulator.endpoint, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
  });
  after(async () => {
    client.destroy();
    await functions.drain();
    await emulator.stop();
  });

  it("RequestResponse answers 200 with the handler's result and a context with a real deadline", async () => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: "worker", Payload: Buffer.from(JSON.stringify({ turnId: "t1" })) }),
    );
    expect(response.StatusCode).to.equal(200);
    expect(response.FunctionError).to.equal(undefined);
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).to.deep.equal({ ok: true, echo: { turnId: "t1" } });
    const call = ran.at(-1)!;
    expect(call.name).to.equal("worker");
    expect(call.remaining).to.be.greaterThan(0).and.below(3_000);
  });

  it("Event answers 202 at once and runs the handler in the background", async () => {
    const before = ran.length;
    const response = await client.send(
      new InvokeCommand({
        FunctionName: "arn:aws:lambda:us-east-1:000000000000:function:worker",
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify({ turnId: "t2" })),
      }),
    );
    expect(response.StatusCode).to.equal(202);
    expect(ran.length).to.equal(before);
    const call = await waitFor(() => ran.find((r) => (r.event as { turnId?: string }).turnId === "t2"));
    expect(call.requestId).to.match(/^[0-9a-f-]{36}$/);
  });

  it("reports handler errors and timeouts as Lambda does (FunctionError Unhandled)", async () => {
    const failed = await client.send(new InvokeCommand({ FunctionName: "failing", Payload: Buffer.from("{}") }));
    expect(failed.FunctionError).to.equal("Unhandled");
    expect(JSON.parse(Buffer.from(failed.Payload!).toString())).to.include({ errorType: "TypeError", errorMessage: "bad input" });
    const timedOut = await client.send(new InvokeCommand({ FunctionName: "sleepy" }));
    expect(JSON.parse(Buffer.from(timedOut.Payload!).toString()).errorMessage).to.match(/Task timed out after 0\.10 seconds/);
  });

  it("answers ResourceNotFoundException for an unknown function", async () => {
    const error = await client.send(new InvokeCommand({ FunctionName: "nope" })).then(() => null, (e: Error) => e);
    expect(error?.name).to.equal("ResourceNotFoundException");
  });

  it("accepts names, ARNs, partial ARNs and qualifiers", () => {
    expect(functionNameOf("worker")).to.equal("worker");
    expect(functionNameOf("arn:aws:lambda:eu-west-1:123456789012:function:chat-worker:live")).to.equal("chat-worker");
    expect(functionNameOf("123456789012:function:chat-worker")).to.equal("chat-worker");
    expect(functionNameOf("worker:$LATEST")).to.equal("worker");
  });
});

describe("local/identity: Cognito-shaped tokens verified by aws-jwt-verify", function () {
  this.timeout(10_000);
  const userPoolId = "us-east-1_LocalPool";
  const clientId = "localclient0000000000000000";
  let dir: string;
  let issuer: IdentityIssuer;
  let verify: (token: string) => Promise<Record<string, unknown>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "identity-"));
    issuer = await new IdentityIssuer({ region: "us-east-1", userPoolId, clientId, keyFile: join(dir, "key.json") }).start();
    // The same origin rewrite the authorizer applies with AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
    const fetcher = {
      fetch: async (uri: string) =>
        (await fetch(uri.replace("https://cognito-idp.us-east-1.amazonaws.com", issuer.endpoint))).arrayBuffer(),
    };
    const verifier = CognitoJwtVerifier.create(
      { userPoolId, tokenUse: null, clientId },
      { jwksCache: new SimpleJwksCache({ fetcher }) },
    );
    verify = (token) => verifier.verify(token) as Promise<Record<string, unknown>>;
  });
  after(async () => {
    await issuer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("mints ID and access tokens with Cognito's issuer and claim layout", async () => {
    const id = await verify(issuer.mint("alice"));
    expect(id).to.include({ iss: `https://cognito-idp.us-east-1.amazonaws.com/${userPoolId}`, aud: clientId, token_use: "id" });
    expect(id["cognito:username"]).to.equal("alice");
    expect(id.sub).to.equal(issuer.subOf("alice"));
    expect(id.exp as number).to.be.greaterThan(id.iat as number);
    const access = await verify(issuer.mint("alice", { tokenUse: "access" }));
    expect(access).to.include({ client_id: clientId, token_use: "access", username: "alice", sub: id.sub });
    expect(issuer.subOf("bob")).to.not.equal(id.sub);
  });

  for (const kind of ["expired", "wrong-client", "wrong-use", "forged", "wrong-issuer", "malformed"] as BadTokenKind[]) {
    it(`mints a ${kind} token that the verifier refuses`, async () => {
      const error = await verify(issuer.mintBad(kind)).then(() => null, (e: Error) => e);
      expect(error, kind).to.be.instanceOf(Error);
    });
  }

  it("keeps its signing key in the key file across restarts", async () => {
    const again = new IdentityIssuer({ region: "us-east-1", userPoolId, clientId, keyFile: join(dir, "key.json") });
    expect(again.jwks()).to.deep.equal(issuer.jwks());
    expect(await verify(again.mint("carol"))).to.include({ "cognito:username": "carol" });
  });
});
