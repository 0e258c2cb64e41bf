// thermocam e2e: the npm onvif client's pull point against a daemon.
// node onvif_pull.cjs PORT USER PASSWORD -> one JSON line
// {"subscribed": bool, "topics": [...], "error": ...}
'use strict';
const { Cam } = require('onvif');
const [port, username, password] = process.argv.slice(2);
const out = { subscribed: false, topics: [] };
const done = (err) => {
  if (err) out.error = String(err && err.message || err);
  console.log(JSON.stringify(out));
  process.exit(0);
};
setTimeout(() => done('timeout'), 45000);
const cam = new Cam({ hostname: '127.0.0.1', port: Number(port), username, password,
  autoconnect: false, timeout: 20000 });
cam.connect((err) => {
  if (err) return done(err);
  cam.createPullPointSubscription((err, sub) => {
    if (err) return done(err);
    out.subscribed = !!(sub && sub.subscriptionReference);
    cam.pullMessages({ messageLimit: 50 }, (err, data) => {
      if (err) return done(err);
      let msgs = data && data.notificationMessage;
      if (msgs && !Array.isArray(msgs)) msgs = [msgs];
      for (const m of msgs || []) {
        const tp = m.topic && (m.topic._ || m.topic);
        out.topics.push(typeof tp === 'string' ? tp : JSON.stringify(tp));
      }
      cam.unsubscribe(() => done());
    });
  });
});
