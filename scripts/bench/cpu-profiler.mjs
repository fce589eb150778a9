// `npm run bench:profile` gives this module to every stack process with --import (PROFILE_CPU=<dir>): each API
// and worker process then starts a V8 CPU profile on its first SIGUSR2 and writes it on its second, to
// $PROFILE_CPU_DIR/<service>-<n>.cpuprofile (open it in Chrome DevTools or VS Code).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

if (process.argv.includes('api') || process.argv.includes('worker')) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  let running = false;
  let n = 0;
  process.on('SIGUSR2', async () => {
    if (!running) {
      running = true;
      await session.post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await session.post('Profiler.stop');
    const role = process.argv.includes('worker') ? `${process.argv.at(-1)}-worker` : process.argv.at(-1);
    const file = `${process.env.PROFILE_CPU_DIR}/${role}-${n++}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
  });
}
