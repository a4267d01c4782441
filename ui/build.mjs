// Builds the web UI into one folder: index.html, app.js (bundled, minified), app.css, and the
// documentation site's docs/docs.js and docs/docs.css (see src/docs/main.ts).
// Usage: node build.mjs OUT_DIR. Type-checks with tsc first; any type error fails the build.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, copyFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, "dist"));

const tsc = spawnSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", here], {
  stdio: "inherit",
});
if (tsc.status !== 0) {
  console.error("ui: type check failed (see the errors above)");
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(here, "src/main.ts"), "docs/docs": join(here, "src/docs/main.ts") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  outdir: outDir,
  logLevel: "warning",
  legalComments: "none",
});
copyFileSync(join(here, "src/styles.css"), join(outDir, "app.css"));
copyFileSync(join(here, "src/docs/docs.css"), join(outDir, "docs/docs.css"));
copyFileSync(join(here, "index.html"), join(outDir, "index.html"));
copyFileSync(join(here, "src/favicon.svg"), join(outDir, "favicon.svg"));
