/**
 * The web client's files: everything `npm run build:web` wrote to `dist/web`, plus a generated `config.json`
 * (type `WebConfig`) that tells the page where to connect and how to sign in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WebConfig } from "../runtime/protocol";

/** The web client's build output, relative to the repository root. */
export const WEB_DIST = path.join(__dirname, "..", "dist", "web");

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** Vite fingerprints files under assets/, so they never change; everything else is revalidated. */
export function cacheControl(key: string): string {
  return key.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache";
}

/** Every file below `dir`, as bucket keys with `/` separators, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(path.relative(dir, full).split(path.sep).join("/"));
    }
  };
  walk(dir);
  return files.sort();
}

/** Source maps stay on the build machine: the deployed site serves no source. */
export function isSourceMap(key: string): boolean {
  return key.endsWith(".map");
}

export interface WebContentArgs {
  /** The private web bucket. */
  readonly bucketName: pulumi.Input<string>;
  /** The page's runtime configuration, served as `/config.json`. */
  readonly config: pulumi.Input<WebConfig>;
  /** The folder with the built client; `dist/web` by default. */
  readonly distDir?: string;
}

export class WebContent extends pulumi.ComponentResource {
  /** The bucket keys uploaded from the build (without config.json). */
  public readonly files: string[];

  constructor(name: string, args: WebContentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:web:WebContent", name, {}, opts);
    const dir = args.distDir ?? WEB_DIST;
    this.files = listFiles(dir).filter((key) => key !== "config.json" && !isSourceMap(key));
    if (this.files.length === 0) {
      pulumi.log.warn(`${path.relative(process.cwd(), dir) || dir} has no files: run \`npm run build:web\` before \`pulumi up\` to publish the web client`, this);
    }
    for (const key of this.files) {
      new aws.s3.BucketObjectv2(
        `${name}-${key}`,
        {
          bucket: args.bucketName,
          key,
          source: new pulumi.asset.FileAsset(path.join(dir, key)),
          contentType: contentType(key),
          cacheControl: cacheControl(key),
        },
        { parent: this },
      );
    }
    new aws.s3.BucketObjectv2(
      `${name}-config.json`,
      {
        bucket: args.bucketName,
        key: "config.json",
        content: pulumi.output(args.config).apply((config) => JSON.stringify(config, null, 2)),
        contentType: "application/json",
        cacheControl: "no-cache",
      },
      { parent: this },
    );
    this.registerOutputs({ files: this.files });
  }
}
