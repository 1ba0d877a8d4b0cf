// Weights of a fixture's model: the stored safetensors that fixture.json names, else the
// synthetic formula (optionally only the keys a test needs, to keep large models cheap).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import type { Sam2Config } from '../../src/model/config.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import type { FixtureRef } from './fixture.js';

export function fixtureWeights(ref: FixtureRef, config: Sam2Config, keep: (key: string) => boolean = () => true): SafetensorsFile {
  const files = ref.json.weights?.files;
  const stored = Array.isArray(files) ? (files as string[]).find((f) => f.endsWith('.safetensors')) : undefined;
  if (stored) return parseSafetensors(new Uint8Array(readFileSync(resolve(ref.dir, stored))));
  return syntheticWeightsFile(config, keep);
}
