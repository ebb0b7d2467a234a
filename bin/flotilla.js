#!/usr/bin/env node
// The `flotilla` command. The sources are TypeScript run as-is: tsx's loader is registered in
// this process (Node >= 20.6 module.register), then the real entry point is imported.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
