import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The chat page: `npm run build:web` builds web/ into dist/web/, which the local stack serves and the Pulumi
 * program uploads to the web bucket. Runtime settings come from /config.json, so one build serves every stack.
 */
const webRoot = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: webRoot,
  base: "./",
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Maps for local debugging only, not referenced from the bundles; the program never uploads them
    // (infra/web-content.ts), so the deployed site serves no source.
    sourcemap: "hidden",
  },
});
