// The stand-in's build: what upstream's `tsc && vite build` does for the parts deployment depends on.
// It reads VITE_* settings as Vite does (the environment first, then .env.local, then .env), refuses to
// build without VITE_QUEUE_API_PATH (upstream's src/env.ts throws without it), and writes a static site
// to dist/: index.html, the app, and opus-recorder's encoder and decoder workers under assets/ (upstream
// imports the encoder from opus-recorder and ships the decoder in public/assets/).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

function readEnvFile(name) {
  if (!existsSync(name)) return {};
  const values = {};
  for (const line of readFileSync(name, "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

const env = { ...readEnvFile(".env"), ...readEnvFile(".env.local") };
for (const [key, value] of Object.entries(process.env)) {
  if (key.startsWith("VITE_")) env[key] = value;
}
if (!env.VITE_QUEUE_API_PATH) {
  console.error("VITE_QUEUE_API_PATH is not defined");
  process.exit(1);
}

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist/assets", { recursive: true });
const settings = { VITE_QUEUE_API_PATH: env.VITE_QUEUE_API_PATH, VITE_ENV: "production" };
writeFileSync("dist/index.html",
  readFileSync("index.html", "utf8").replace("%SETTINGS%", JSON.stringify(settings)));
copyFileSync("src/app.js", "dist/assets/app.js");
for (const name of ["recorder.min.js", "encoderWorker.min.js", "decoderWorker.min.js", "decoderWorker.min.wasm"]) {
  copyFileSync("node_modules/opus-recorder/dist/" + name, "dist/assets/" + name);
}
console.log("built dist/ (VITE_QUEUE_API_PATH=" + env.VITE_QUEUE_API_PATH + ")");
