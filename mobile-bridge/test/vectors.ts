/// <reference types="node" />
// Loads the shared test vectors from ../docs/test-vectors (the Rust side's files).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'test-vectors');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVector(name: string): any {
  return JSON.parse(readFileSync(join(dir, name), 'utf8'));
}
