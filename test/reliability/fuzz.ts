/**
 * A seeded generator of bad client frames (mulberry32, so a failing seed reproduces). Every frame it makes must
 * be refused by the runtime with an `error` frame: none of them is a valid `send`/`stop`/… frame. Frames stay at
 * or under API Gateway's 32 KB frame limit, so the connection must survive all of them.
 */
import { randomUUID } from "node:crypto";
import { prng } from "../../runtime/local/emulators/bedrock-text";

export type FuzzFrame =
  | { kind: "text"; label: string; data: string }
  /** A text frame carrying bytes that are not valid UTF-8 (the gateway, like `ws`, closes with 1007). */
  | { kind: "invalid-utf8"; label: string; data: Buffer }
  | { kind: "binary"; label: string; data: Buffer };

const ACTIONS = ["send", "stop", "regenerate", "sessions", "history", "ping"];
const ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789{}[]\":,\\/\u00e9\u4e2d\ud83d\ude00\u0000\u202e";

export class FrameFuzzer {
  private readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = prng(seed);
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  private string(max: number): string {
    let s = "";
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick([...ALPHABET]);
    return s;
  }

  /** A random JSON value of bounded depth. */
  private value(depth = 0): unknown {
    const roll = this.int(depth > 2 ? 5 : 7);
    switch (roll) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 1e308, -0, 3.14, Number.MAX_SAFE_INTEGER + 2]);
      case 3:
      case 4:
        return this.string(40);
      case 5:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.string(8), this.value(depth + 1)]));
    }
  }

  /** A value of the wrong type for a string field. */
  private notAString(): unknown {
    return this.pick<unknown>([null, 42, true, [], {}, ["a"], { $ne: null }, -1]);
  }

  /** A wrong value for an id field (never a usable one): wrong type, empty, or longer than ids may be. */
  private wrong(): unknown {
    return this.random() < 0.7 ? this.notAString() : this.pick(["", "x".repeat(201)]);
  }

  /** A frame naming a real action with missing or wrong-typed fields. */
  private wrongTypes(): Record<string, unknown> {
    const action = this.pick(["send", "stop", "regenerate", "history"]);
    switch (action) {
      case "send": {
        const variant = this.int(5);
        if (variant === 0) return { action, clientMessageId: randomUUIDFrom(this.random), text: this.notAString() };
        if (variant === 1) return { action, clientMessageId: this.wrong(), text: "hello" };
        if (variant === 2) return { action, clientMessageId: "not-a-uuid", text: "hello" };
        if (variant === 3) return { action, clientMessageId: randomUUIDFrom(this.random), text: "hi", sessionId: this.pick<unknown>([42, {}, "x".repeat(300), ""]) };
        return { action, text: "no id" };
      }
      case "stop":
      case "regenerate":
        return { action, turnId: this.wrong() };
      default:
        return { action, sessionId: this.wrong(), ...(this.random() < 0.5 ? { cursor: this.wrong() } : {}) };
    }
  }

  /** One bad frame. */
  next(): FuzzFrame {
    const roll = this.int(10);
    switch (roll) {
      case 0:
        return { kind: "text", label: "random JSON value", data: JSON.stringify(this.value()) ?? "null" };
      case 1: {
        const obj = this.value(1);
        const data = typeof obj === "object" && obj !== null && !Array.isArray(obj) ? { ...obj, action: this.string(10) + "?" } : { action: obj };
        return { kind: "text", label: "unknown action", data: JSON.stringify(data) };
      }
      case 2:
      case 3:
        return { kind: "text", label: "wrong field types", data: JSON.stringify(this.wrongTypes()) };
      case 4: {
        // A send whose text is over the runtime's 16 KB text limit but the frame under API Gateway's 32 KB.
        const text = "\u00e9".repeat(8 * 1024 + 1 + this.int(4000));
        return { kind: "text", label: "text over 16 KB", data: JSON.stringify({ action: "send", clientMessageId: randomUUIDFrom(this.random), text }) };
      }
      case 5: {
        // Cut short: never valid JSON, whatever the action.
        const whole = JSON.stringify({ action: this.pick(ACTIONS), junk: "y".repeat(28 * 1024 + this.int(2048)) });
        const data = whole.slice(0, whole.length - 2 - this.int(100));
        return { kind: "text", label: "huge truncated JSON", data };
      }
      case 6:
        return { kind: "text", label: "not JSON", data: this.string(200) + "{" };
      case 7:
        // JSON-escaped lone surrogates: valid UTF-8 on the wire, not a valid Unicode string.
        return { kind: "text", label: "lone surrogates", data: `{"action":"send","clientMessageId":"\\ud800","text":"\\udfff\\ud800"}` };
      case 8:
        return { kind: "binary", label: "binary frame", data: Buffer.from(Array.from({ length: 1 + this.int(512) }, () => this.int(256))) };
      default:
        return { kind: "text", label: "empty or whitespace", data: this.pick(["", " ", "\n", "{}", "[]", "null", '""']) };
    }
  }

  /** A text frame with invalid UTF-8 (a stray continuation byte, an overlong encoding, a truncated sequence). */
  invalidUtf8(): FuzzFrame {
    const bad = this.pick([Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff, 0xfe])]);
    return { kind: "invalid-utf8", label: "invalid UTF-8", data: Buffer.concat([Buffer.from('{"action":"ping","x":"'), bad, Buffer.from('"}')]) };
  }
}

/** A well-formed UUID drawn from the seeded PRNG (so it reproduces), never one a real client would reuse. */
function randomUUIDFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export { randomUUID };
