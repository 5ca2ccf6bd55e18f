/**
 * What one user can spend in an hour at the default limits: one account with several connections sends the most
 * expensive message it can (as long as the context budget admits, asking for more than MAX_OUTPUT_TOKENS) as
 * often as the limits let it, retrying after each refusal's retryAfterMs. The run counts the model usage the
 * answers reported (turn.done), extrapolates it to an hour, and prices it (model-prices.ts). The baseline is the
 * same attack under the limits before issue 11 (concurrency per connection only): MAX_CONCURRENT_PER_USER=100.
 */
import { performance } from "node:perf_hooks";
import { ChatClient } from "./client";
import { marker, startBenchStack } from "./harness";
import { MODEL_PRICES, modelCostUsd } from "./model-prices";
import type { BenchOptions, Section } from "./report";

/** The runtime's defaults (runtime/config.ts), which the program passes on unless a stack sets others. */
const DEFAULTS = { MESSAGES_PER_MINUTE: "20", MAX_CONCURRENT_PER_CONNECTION: "2", MAX_OUTPUT_TOKENS: "1024", CONTEXT_BUDGET_TOKENS: "8000" };
/** Output speed assumed for the model (the emulator streams at it); an answer's length in time bounds the rate. */
const TOKENS_PER_SECOND = 150;
const CONNECTIONS = 8;

interface AttackResult {
  seconds: number;
  answers: number;
  refusals: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  maxAtOnce: number;
}

/** The largest prompt the context budget admits (estimate = UTF-8 bytes + 4), asking for more than max tokens. */
function costlyPrompt(mark: string): string {
  const head = `Explain streaming ${mark} in detail [[tokens:4000]] `;
  const budget = Number(DEFAULTS.CONTEXT_BUDGET_TOKENS) - 4 - 16;
  return head + "lorem ipsum dolor sit amet ".repeat(Math.floor((budget - head.length) / 27));
}

async function attack(seconds: number, env: Record<string, string>, log: (line: string) => void): Promise<AttackResult> {
  const bench = await startBenchStack({ tokensPerSecond: TOKENS_PER_SECOND, timeToFirstTokenMs: 400, extra: { env: { ...DEFAULTS, ...env } } });
  const result: AttackResult = { seconds, answers: 0, refusals: {}, inputTokens: 0, outputTokens: 0, maxAtOnce: 0 };
  const intervals: [number, number][] = [];
  try {
    const token = await bench.stack.token("spender");
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => ChatClient.connect(bench.stack.wsUrl, token)));
    // Start on a UTC minute and run whole minutes, so the per-minute counter is measured as it bounds an hour.
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
    const start = performance.now();
    const end = start + seconds * 1000;
    let n = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < end) {
          const turn = await client.turn(costlyPrompt(marker("spend", n++)), undefined, 120_000);
          if (turn.started === undefined) {
            const code = String(turn.error?.code ?? "none");
            result.refusals[code] = (result.refusals[code] ?? 0) + 1;
            await new Promise((r) => setTimeout(r, Math.max(50, Math.min(turn.error?.retryAfterMs ?? 1000, end - performance.now()))));
            continue;
          }
          // Every answer admitted inside the window counts whole, also the part that ends after it (errs high).
          if (turn.done) intervals.push([turn.started.at, turn.done.at]);
          result.answers++;
          result.inputTokens += turn.done?.usage.inputTokens ?? 0;
          result.outputTokens += turn.done?.usage.outputTokens ?? 0;
        }
      }),
    );
    result.maxAtOnce = maxOverlap(intervals);
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await bench.stop();
  }
  log(`spend: ${result.answers} answers in ${result.seconds.toFixed(0)} s, refusals ${JSON.stringify(result.refusals)}`);
  return result;
}

/** The most intervals open at one moment (answers generating at once, as the client saw them). */
function maxOverlap(intervals: [number, number][]): number {
  const events = intervals.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (open += delta));
  return most;
}

const perHour = (r: AttackResult, value: number) => (value * 3600) / r.seconds;
const usd = (x: number) => `$${x.toFixed(2)}`;
const thousands = (x: number) => Math.round(x).toLocaleString("en-US");

export async function spendBenchmark(options: BenchOptions): Promise<Section> {
  const seconds = options.quick ? 60 : 120;
  const limited = await attack(seconds, {}, options.log);
  const before = await attack(seconds, { MAX_CONCURRENT_PER_USER: "100" }, options.log);
  const rows = [limited, before].map((r, i) => {
    const answers = perHour(r, r.answers);
    const input = perHour(r, r.inputTokens);
    const output = perHour(r, r.outputTokens);
    // Worst case for the same answers: input that costs a token per byte (the byte estimate's bound); before issue 11
    // the estimate was 4 characters a token, so text of a token per character (CJK, emoji) sent 4 times the budget.
    const worstInput = answers * Number(DEFAULTS.CONTEXT_BUDGET_TOKENS) * (i === 0 ? 1 : 4);
    return {
      answers,
      input,
      output,
      cost: modelCostUsd(input, output),
      worst: modelCostUsd(worstInput, output),
      maxAtOnce: r.maxAtOnce,
      refusals: r.refusals,
    };
  });
  const [now, base] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const refusals = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const dayCap = (budget: number) => modelCostUsd(budget * 0.8, budget * 0.2);
  return {
    name: "spend",
    title: "Spend: what one user can cost per hour at the defaults",
    baselineLabel: "limits before issue 11 (concurrency per connection only)",
    method:
      `One user, ${CONNECTIONS} connections, each sending the largest message the context budget admits (~${Number(DEFAULTS.CONTEXT_BUDGET_TOKENS) - 20} bytes of ` +
      `English) and asking for more than \`MAX_OUTPUT_TOKENS\`, again as soon as an answer ends or a refusal's \`retryAfterMs\` has passed, for ` +
      `${seconds} s starting on a UTC minute (whole minutes of the per-minute counter). Defaults: ${Object.entries(DEFAULTS).map(([k, v]) => `${k}=${v}`).join(", ")}, ` +
      `MAX_CONCURRENT_PER_USER=2, DAILY_TOKEN_BUDGET=0 (unlimited). The emulator streams at ${TOKENS_PER_SECOND} tokens/s after 400 ms ` +
      `(an assumption about the model's speed; a slower model costs less per hour). Tokens are the usage each answer reported; ` +
      `per hour = measured × 3600 / run seconds. Prices: ${MODEL_PRICES.label} ($${MODEL_PRICES.inputPerMillion} / $${MODEL_PRICES.outputPerMillion} ` +
      `per million input / output tokens), ${MODEL_PRICES.source}. Model cost only: API Gateway and Lambda add about 2% (a 1,024 MB ` +
      `worker for the ~7.5 s of an answer is ~$0.0001 at Arm prices, the model ~$0.008).`,
    rows: [
      { metric: "answers per hour (largest at once)", value: `${thousands(now.answers)} (${now.maxAtOnce})`, baseline: `${thousands(base.answers)} (${base.maxAtOnce})` },
      { metric: "input / output tokens per hour (as reported)", value: `${thousands(now.input)} / ${thousands(now.output)}`, baseline: `${thousands(base.input)} / ${thousands(base.output)}` },
      { metric: "model cost per hour, English prompts", value: usd(now.cost), baseline: usd(base.cost) },
      {
        metric: "model cost per hour, worst case (input at the context budget's real bound)",
        value: `${usd(now.worst)} (a token per byte: ${thousands(Number(DEFAULTS.CONTEXT_BUDGET_TOKENS))} tokens an answer)`,
        baseline: `${usd(base.worst)} (4 characters a token: up to ${thousands(4 * Number(DEFAULTS.CONTEXT_BUDGET_TOKENS))})`,
      },
      { metric: "refusals during the run", value: refusals(now.refusals), baseline: refusals(base.refusals) },
      {
        metric: "with DAILY_TOKEN_BUDGET=200000: most a user can cost a day",
        value: `${usd(dayCap(200_000 + 2 * (Number(DEFAULTS.CONTEXT_BUDGET_TOKENS) + Number(DEFAULTS.MAX_OUTPUT_TOKENS))))} (budget + 2 answers in flight, 80% input)`,
        baseline: "unbounded",
      },
    ],
    notes: [
      `Hourly figures hold per account: the per-user limits do not bound how many accounts there are (issue 11, item 1: sign-up under the operator's control).`,
    ],
  };
}
