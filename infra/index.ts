/**
 * The Pulumi program's entry point: validate `chat:*` once, build the stack, export what a user needs.
 * Everything else lives in `stack.ts` so the tests can build several configs in one process.
 */
import { readConfig } from "./config";
import { createStack } from "./stack";

const outputs = createStack(readConfig());

export const regions = outputs.regions;
