// The stand-in's Vite configuration. Upstream ships opus-recorder's decoder worker (and the WebAssembly file it
// loads from its own directory) in public/assets/; the stand-in copies both from the locked package into the
// build's assets/ instead of keeping copies of them.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vite";

const DECODER_FILES = ["decoderWorker.min.js", "decoderWorker.min.wasm"];

export default defineConfig({
  plugins: [
    {
      name: "opus-decoder-worker",
      writeBundle(options) {
        const assets = join(options.dir, "assets");
        mkdirSync(assets, { recursive: true });
        for (const name of DECODER_FILES) {
          copyFileSync(join("node_modules", "opus-recorder", "dist", name), join(assets, name));
        }
      },
    },
  ],
});
