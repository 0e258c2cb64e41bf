// thermocam e2e: the npm `onvif` client (0.8.3) against a real thermocamd.
// Usage: node onvif_client.mjs connect HOST PORT USER PASSWORD
//        node onvif_client.mjs discover [DEVICE] [TIMEOUT_MS]
// Prints one JSON object: what the client saw (the Python test checks it).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const onvif = require('onvif');

const [mode, ...args] = process.argv.slice(2);
const out = (o) => { process.stdout.write(JSON.stringify(o) + '\n'); process.exit(0); };
const fail = (stage, err) => out({ ok: false, stage, error: String(err && err.message || err) });
setTimeout(() => fail('timeout', 'no answer in time'), 30000).unref();

if (mode === 'connect') {
  const [hostname, port, username, password] = args;
  const cam = new onvif.Cam({ hostname, port: Number(port), username, password,
    path: '/onvif/device_service', timeout: 10000, autoconnect: false });
  cam.connect((err) => {
    if (err) return fail('connect', err);
    cam.getDeviceInformation((err2, info) => {
      if (err2) return fail('info', err2);
      const profiles = (cam.profiles || []).map((p) => ({ token: p.$ && p.$.token, name: p.name,
        encoding: p.videoEncoderConfiguration && p.videoEncoderConfiguration.encoding,
        resolution: p.videoEncoderConfiguration && p.videoEncoderConfiguration.resolution }));
      const token = profiles.length ? profiles[0].token : undefined;
      cam.getStreamUri({ protocol: 'RTSP', profileToken: token }, (err3, stream) => {
        if (err3) return fail('stream', err3);
        cam.getSnapshotUri({ profileToken: token }, (err4, snap) => {
          if (err4) return fail('snapshot', err4);
          out({ ok: true, info, profiles, stream: stream && stream.uri,
            snapshot: snap && snap.uri, videoSources: (cam.videoSources ? 1 : 0) });
        });
      });
    });
  });
} else if (mode === 'discover') {
  const [device, timeout] = args;
  const opts = { timeout: Number(timeout || 3000), resolve: false };
  if (device) opts.device = device;
  onvif.Discovery.probe(opts, (err, found) => {
    if (err) return fail('probe', err);
    out({ ok: true, found: (found || []).map((m) => {
      const pm = m && m.probeMatches && m.probeMatches.probeMatch;
      return pm ? { address: pm.endpointReference && pm.endpointReference.address,
        xaddrs: pm.XAddrs, scopes: pm.scopes, types: pm.types } : m;
    }) });
  });
} else {
  fail('usage', 'connect HOST PORT USER PASSWORD | discover [DEVICE] [TIMEOUT_MS]');
}
