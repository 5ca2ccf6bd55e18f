/**
 * One Bedrock Guardrail per region and a published (numbered) version of it: content filters on the prompt and the
 * answer, prompt-attack detection on the prompt, the configured denied topics, and the blocked messaging the user
 * sees. Its id and version reach the generation worker's environment.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GuardrailSettings } from "./config";

export interface ChatGuardrailArgs {
  /** Filters, denied topics and blocked messages, validated by config.ts. */
  readonly settings: GuardrailSettings;
}

export class ChatGuardrail extends pulumi.ComponentResource {
  public readonly guardrailId: pulumi.Output<string>;
  public readonly guardrailArn: pulumi.Output<string>;
  /** The published version the functions use (never DRAFT, so an edit cannot change production silently). */
  public readonly version: pulumi.Output<string>;

  constructor(name: string, args: ChatGuardrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:guardrail:ChatGuardrail", name, {}, opts);
    const { settings } = args;
    const guardrail = new aws.bedrock.Guardrail(
      `${name}-policy`,
      {
        description: "Streaming chat: content filters, prompt-attack detection and denied topics",
        blockedInputMessaging: settings.blockedInputMessage,
        blockedOutputsMessaging: settings.blockedOutputMessage,
        contentPolicyConfig: {
          filtersConfigs: settings.filters.map((filter) => ({
            type: filter.category,
            inputStrength: filter.inputStrength,
            outputStrength: filter.outputStrength,
          })),
        },
        ...(settings.deniedTopics.length > 0
          ? {
              topicPolicyConfig: {
                topicsConfigs: settings.deniedTopics.map((topic) => ({
                  name: topic.name,
                  definition: topic.definition,
                  examples: topic.examples,
                  type: "DENY",
                })),
              },
            }
          : {}),
      },
      { parent: this },
    );
    // A new version is published whenever the guardrail's settings change (the description carries their digest).
    const published = new aws.bedrock.GuardrailVersion(
      `${name}-version`,
      {
        guardrailArn: guardrail.guardrailArn,
        description: `settings ${digest(settings)}`,
        // Keep old versions on replacement: functions still running may name them until they are updated.
        skipDestroy: true,
      },
      { parent: this },
    );
    this.guardrailId = guardrail.guardrailId;
    this.guardrailArn = guardrail.guardrailArn;
    this.version = published.version;
    this.registerOutputs({ guardrailId: this.guardrailId, guardrailArn: this.guardrailArn, version: this.version });
  }
}

/** A short, stable digest of the settings. */
function digest(settings: GuardrailSettings): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 12);
}
