// Classifies the changes between two OpenAPI documents with api-smart-diff.
// Usage: node diff.mjs BEFORE.json AFTER.json  ->  a JSON array of changes on stdout, each
// {type: "breaking" | "non-breaking" | "deprecated" | "annotation" | "unclassified",
//  action: "add" | "remove" | "replace" | "rename", path: [...], description: string}.
// tools/spec_diff.py drives it and decides what fails; this script only reports.
import { readFileSync } from 'node:fs';
import { apiCompare } from 'api-smart-diff';

const [beforePath, afterPath] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  process.stderr.write('usage: node diff.mjs BEFORE.json AFTER.json\n');
  process.exit(2);
}
const load = (path) => JSON.parse(readFileSync(path, 'utf8'));
const { diffs } = apiCompare(load(beforePath), load(afterPath));
const changes = diffs.map((diff) => ({
  type: diff.type,
  action: diff.action,
  path: diff.path.map(String),
  description: typeof diff.description === 'string' ? diff.description : '',
}));
process.stdout.write(JSON.stringify(changes));
