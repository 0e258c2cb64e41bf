// What each settings page shows, laid out as the manual's chapters 3 to 10
// lay it out: a page is parts (one configuration section each, saved by
// PUT /config/{section}), a part is groups of members of that section in
// order. A part without groups shows every member of its section, so a new
// section is one line here. `extra` names a widget of settings-extras.js;
// `when: [member, values]` shows a member only while another has those values.
export const CHAPTERS = [
  { id: 'thermometry', pages: ['thermometry', 'scene-alarm', 'rules'] },
  { id: 'events', pages: ['alarm-inputs', 'exceptions', 'burning', 'environment'] },
  { id: 'linkage', pages: ['schedules', 'alarm-outputs', 'ftp', 'email', 'center'] },
  { id: 'video', pages: ['video', 'image', 'osd', 'hardware'] },
  { id: 'storage', pages: ['capture'] },
  { id: 'network', pages: ['tcpip', 'ports', 'ddns', 'network-advanced', 'modbus', 'mqtt', 'metrics', 'onvif', 'snmp', 'upnp'] },
  { id: 'system', pages: ['device', 'time', 'units', 'about', 'security', 'delivery', 'history', 'log-server', 'serial'] },
];

const LINKAGE = ['linkage.alarm_outputs', 'linkage.ftp', 'linkage.email', 'linkage.center', 'linkage.capture', 'linkage.snmp_trap'];

export const PAGES = {
  thermometry: { manual: '3.1', parts: [{ section: 'thermometry', groups: [
    { title: 'grp.measurement', fields: ['enabled', { path: 'unit', extra: 'sameUnit' }, 'temperature_range', 'distance_mode'] },
    { title: 'grp.object', fields: [{ path: 'emissivity', extra: 'materials' }, { path: 'distance', extra: 'distance' }, 'reflected_temperature'] },
    { title: 'grp.atmosphere', fields: ['atmospheric_temperature', 'relative_humidity', 'optical_transmissivity', 'window_temperature',
      'calibration_coefficient_enabled', 'calibration_coefficient'] },
    { title: 'grp.display', fields: ['color_ruler', 'info_on_stream', 'show_max_min_avg', 'info_position', 'show_rule_name', 'show_scene'] },
    { title: 'grp.liveView', fields: ['live_temperature_info', 'live_rules'] },
    { title: 'grp.alarm', fields: ['alarm_interval_s'] },
  ] }] },
  'scene-alarm': { manual: '3.2', parts: [
    { section: 'scene_alarm', groups: [
      { title: 'grp.sceneAlarm', fields: ['enabled', 'on', 'condition', 'pre_alarm', 'alarm', 'tolerance', 'filter_time'] }] },
    { section: 'events', groups: [
      { title: 'grp.sceneLinkage', fields: ['scene.pre_alarm', ...LINKAGE.map((f) => 'scene.' + f)] },
      { title: 'grp.rulesLinkage', fields: ['rules.pre_alarm', ...LINKAGE.map((f) => 'rules.' + f)] },
      { title: 'grp.comparisonsLinkage', fields: ['comparisons.pre_alarm', ...LINKAGE.map((f) => 'comparisons.' + f)] }],
    note: 'set.scheduleNote' },
  ] },
  rules: { manual: '3.3', extra: 'rules' },
  'alarm-inputs': { manual: '4.1', extra: 'inputs', parts: [{ section: 'alarm_inputs', groups: [
    { title: 'grp.handling', fields: ['enabled'] },
    { title: 'grp.inputs', list: 'inputs', item: 'set.input', fields: ['name', 'enabled', 'type', ...LINKAGE] },
  ] }] },
  exceptions: { manual: '4.2', parts: [{ section: 'exceptions', groups:
    ['network_disconnected', 'ip_conflict', 'illegal_login', 'calibration_changed', 'time_sync_failed'].map((x) => (
      { title: 'f.' + x, fields: [x + '.enabled', ...LINKAGE.map((f) => x + '.' + f)] })) }] },
  burning: { manual: '4.3', parts: [{ section: 'burning_prevention', groups: [
    { title: 'sec.burning_prevention', fields: ['enabled', 'mode', { path: 'threshold', when: ['mode', 'auto'] },
      { path: 'duration_s', when: ['mode', 'auto'] }, { path: 'shutter', when: ['mode', 'manual'] }, 'recovery'] },
  ] }] },
  environment: { manual: '4.4', parts: [{ section: 'environment_alarm', groups: [
    { title: 'grp.environment', fields: ['enabled', 'threshold', 'interval_s'] },
    { title: 'grp.linkage', fields: LINKAGE },
  ], note: 'set.scheduleNote' }] },
  schedules: { manual: '5.1', extra: 'schedules' },
  'alarm-outputs': { manual: '5.2.1', extra: 'outputs', parts: [{ section: 'alarm_outputs', groups: [
    { title: 'grp.outputs', list: 'outputs', item: 'set.output', fields: ['name', 'delay'], extra: 'output' },
  ] }] },
  ftp: { manual: '5.2.2, 8.1', parts: [{ section: 'ftp', test: 'ftp/test', groups: [
    { title: 'grp.server', fields: ['server', 'port', 'anonymous', { path: 'user', when: ['anonymous', false] },
      { path: 'password', when: ['anonymous', false] }] },
    { title: 'grp.directory', fields: ['directory.structure',
      { path: 'directory.parent', when: ['directory.structure', ['parent', 'parent_child']] },
      { path: 'directory.custom_parent', when: ['directory.parent', 'custom'] },
      { path: 'directory.child', when: ['directory.structure', 'parent_child'] },
      { path: 'directory.custom_child', when: ['directory.child', 'custom'] }] },
    { title: 'grp.upload', fields: ['upload_pictures'] },
  ] }] },
  email: { manual: '5.2.3', parts: [{ section: 'email', test: 'email/test', groups: [
    { title: 'grp.sender', fields: ['sender_name', 'sender_address'] },
    { title: 'grp.server', fields: ['server', 'port', 'encryption', 'verify_certificate', 'authentication',
      { path: 'user', when: ['authentication', true] }, { path: 'password', when: ['authentication', true] }] },
    { title: 'grp.receivers', list: 'receivers', item: 'set.receiver', fields: ['name', 'address'], grow: { address: '' } },
    { title: 'grp.attachment', fields: ['attach_pictures', 'picture_interval_s'] },
  ] }] },
  center: { manual: '5.2.4', parts: [{ section: 'center', test: 'center/test', groups: [
    { title: 'grp.receivers', list: 'receivers', item: 'set.receiver', fields: ['url', 'user', 'password', 'verify_certificate'], grow: { url: 'http://' } },
  ] }] },
  video: { manual: '7.1', parts: [{ section: 'video', groups: ['main', 'sub'].map((s) => ({ title: 'grp.' + s,
    fields: ['resolution', 'bitrate_type', 'max_bitrate', 'quality', 'frame_rate', 'encoding', 'profile', 'iframe_interval', 'smoothing']
      .map((f) => (f === 'quality' ? { path: `${s}.${f}`, when: [`${s}.bitrate_type`, 'vbr'] } : `${s}.${f}`)) })) }] },
  image: { manual: '7.2', parts: [{ section: 'image', groups: [
    { title: 'grp.adjust', fields: ['brightness', 'contrast'] },
    { title: 'grp.palette', fields: ['palette', 'agc', 'range.mode', { path: 'range.min', when: ['range.mode', 'manual'] },
      { path: 'range.max', when: ['range.mode', 'manual'] }] },
    { title: 'grp.dnr', fields: ['dnr.mode', { path: 'dnr.level', when: ['dnr.mode', 'normal'] },
      { path: 'dnr.spatial_level', when: ['dnr.mode', 'expert'] }, { path: 'dnr.temporal_level', when: ['dnr.mode', 'expert'] }] },
    { title: 'grp.dde', fields: ['dde.mode', { path: 'dde.level', when: ['dde.mode', 'normal'] }] },
    { title: 'grp.videoAdjust', fields: ['mirror', 'video_standard'] },
  ] }] },
  osd: { manual: '7.3, 7.4', extra: 'osd', parts: [{ section: 'osd', groups: [
    { title: 'grp.osd', fields: ['show_name', 'show_date', 'show_week', 'date_format', 'time_format', 'text'] },
    { title: 'grp.font', fields: ['font_size', 'font_color', 'alignment', 'position', 'normal_color', 'pre_alarm_color', 'alarm_color'] },
    { title: 'grp.picture', fields: ['picture.enabled', 'picture.x', 'picture.y'] },
  ] }] },
  capture: { manual: '8', parts: [
    { section: 'capture', groups: [
      { title: 'grp.timed', fields: ['timed.enabled', 'timed.interval_s', 'timed.picture.format', 'timed.picture.resolution', 'timed.picture.quality'] },
      { title: 'grp.eventCapture', fields: ['event.picture.format', 'event.picture.resolution', 'event.picture.quality', 'event.count', 'event.interval_s'] },
      { title: 'grp.storage', fields: ['storage_mb'] }], note: 'set.scheduleNote' },
    { section: 'recording', groups: [{ title: 'grp.recording', fields: ['file_size_mb', 'storage_mb'] }] },
  ] },
  ports: { manual: '9.2', extra: 'ports', parts: [{ section: 'ports', groups: [
    { title: 'grp.ports', fields: ['http', 'https', 'rtsp', 'srtp', 'modbus', 'snmp', 'wsd', 'server', 'serial', 'listen_address'] },
    { title: 'grp.websocket', fields: ['websocket_enabled', 'websocket', 'websockets_enabled', 'websockets'] }] }] },
  tcpip: { manual: '9.1', extra: 'network', parts: [{ section: 'network', groups: [
    { title: 'grp.nic', fields: ['interface', 'nic_type', 'mtu'] },
    { title: 'grp.ipv4', fields: ['ipv4.mode', ...['address', 'netmask', 'gateway'].map((f) => ({ path: 'ipv4.' + f, when: ['ipv4.mode', 'manual'] }))] },
    { title: 'grp.ipv6', fields: ['ipv6.mode', ...['address', 'prefix_length', 'gateway'].map((f) => ({ path: 'ipv6.' + f, when: ['ipv6.mode', 'manual'] }))] },
    { title: 'grp.dns', fields: ['dns.preferred', 'dns.alternate'] },
    { title: 'grp.dynamicDomain', fields: ['dynamic_domain_name.enabled', 'dynamic_domain_name.name'] },
    { title: 'grp.confirm', fields: ['confirm_timeout_s'] },
  ] }] },
  ddns: { manual: '9.5', extra: 'ddns', parts: [{ section: 'network', groups: [
    { title: 'grp.ddns', fields: ['ddns.enabled', 'ddns.type', 'ddns.server', 'ddns.https', 'ddns.domain', 'ddns.user', 'ddns.password', 'ddns.interval_s'] },
  ] }] },
  'network-advanced': { manual: '10.12.4, 10.12.6, 10.12.7', extra: 'certstore', parts: [{ section: 'network', groups: [
    { title: 'grp.qos', fields: ['qos.video_dscp', 'qos.alarm_dscp', 'qos.management_dscp'] },
    { title: 'grp.ieee8021x', fields: ['ieee8021x.enabled', 'ieee8021x.protocol', 'ieee8021x.eapol_version', 'ieee8021x.user',
      { path: 'ieee8021x.password', when: ['ieee8021x.protocol', ['peap', 'eap-md5']] }, 'ieee8021x.ca_certificate',
      { path: 'ieee8021x.client_certificate', when: ['ieee8021x.protocol', 'eap-tls'] }] },
    { title: 'grp.ssh', fields: ['ssh.enabled'] },
  ] }] },
  modbus: { manual: '9.2, 10.10', extra: 'registers', parts: [{ section: 'modbus' }, { section: 'rs485' }] },
  device: { manual: '10.1', parts: [{ section: 'device' }] },
  time: { manual: '10.8', extra: 'clock', parts: [{ section: 'time', groups: [{ title: 'grp.timezone', fields: [{ path: 'timezone', extra: 'zones' }] },
    { title: 'grp.dst', fields: ['dst.mode', ...['start', 'end'].flatMap((p) => ['month', 'week', 'weekday', 'hour', 'minute']
      .map((k) => ({ path: `dst.${p}.${k}`, when: ['dst.mode', 'custom'] }))), { path: 'dst.bias_min', when: ['dst.mode', 'custom'] }] },
    { title: 'grp.ntp', fields: ['ntp.enabled', 'ntp.server', 'ntp.port', 'ntp.interval_s', 'ntp.policy',
      { path: 'ntp.step_threshold_ms', when: ['ntp.policy', 'auto'] }, 'ntp.timeout_ms'] }] }] },
  units: { manual: '10.11', parts: [{ section: 'units', groups: [{ title: 'sec.units', fields: ['same_unit', 'temperature', 'distance'] }] }] },
  about: { manual: '10.1, 10.7', extra: 'about' },
  security: { manual: '10.12', parts: [{ section: 'security', groups: [
    { title: 'grp.authentication', fields: ['authentication.web', 'authentication.rtsp'] },
    { title: 'grp.ipFilter', fields: ['ip_filter.enabled', 'ip_filter.mode', 'ip_filter.addresses'] },
    { title: 'grp.lock', fields: ['illegal_login_lock.enabled', 'illegal_login_lock.attempts', 'illegal_login_lock.duration_min'] },
    { title: 'grp.session', fields: ['session_timeout_min'] },
  ] }] },
  delivery: { manual: '5.2', parts: [{ section: 'delivery' }] },
  // beyond the manual
  mqtt: { parts: [{ section: 'mqtt', groups: [
    { title: 'grp.broker', fields: ['enabled', 'server', 'port', 'client_id', 'user', 'password', 'keepalive_s'] },
    { title: 'grp.tls', fields: ['tls.enabled', 'tls.ca', 'tls.certificate', 'tls.key', 'tls.verify_hostname'] },
    { title: 'grp.topics', fields: ['topic_prefix', 'readings_interval_ms', 'qos.readings', 'qos.events', 'qos.state',
      'queue_max', 'commands'] },
    { title: 'grp.discovery', fields: ['discovery.enabled', 'discovery.prefix'] },
  ] }] },
  metrics: { parts: [{ section: 'metrics' }] },
  onvif: { manual: '9.6', parts: [{ section: 'onvif', groups: [
    { title: 'grp.onvif', fields: ['enabled', 'authentication', 'discovery', 'location', 'scopes'] },
    { title: 'grp.onvifUsers', list: 'users', item: 'set.onvifUser', fields: ['name', 'level', 'password'],
      grow: { name: '', level: 'User' } },
  ] }] },
  upnp: { manual: '9.3', parts: [{ section: 'upnp', groups: [
    { title: 'grp.upnp', fields: ['enabled', 'friendly_name', 'mode', 'lease_s', 'discovery_address'] },
    { title: 'grp.upnpMappings', list: 'mappings', item: 'set.upnpMapping', fields: ['port', 'enabled',
      { path: 'external_port', when: ['mode', 'manual'] }], grow: { port: 'http' } },
  ] }] },
  snmp: { manual: '9.4', parts: [{ section: 'snmp', groups: [
    { title: 'grp.snmpVersions', fields: ['v1', 'v2c', 'v3'] },
    { title: 'grp.snmpCommunities', fields: ['read_community', 'write_community', 'contact', 'location'] },
    { title: 'grp.snmpUsers', list: 'users', item: 'set.snmpUser', fields: ['name', 'access', 'level', 'auth_protocol',
      'auth_password', 'priv_protocol', 'priv_password'], grow: { name: 'nms' } },
    { title: 'grp.snmpTraps', list: 'trap_receivers', item: 'set.snmpReceiver', fields: ['address', 'port', 'version',
      'community', 'user', 'inform'], grow: { address: '' } },
  ] }] },
  history: { parts: [{ section: 'history' }] },
  'log-server': { manual: '10.12.2', parts: [{ section: 'log_server', groups: [
    { title: 'grp.logServer', fields: ['enabled', 'server', 'port', 'transport', 'facility', 'queue_max'] },
    { title: 'grp.tls', fields: [{ path: 'ca', when: ['transport', 'tls'] },
      { path: 'verify_hostname', when: ['transport', 'tls'] }] },
  ] }] },
  serial: { manual: '10.9', extra: 'serialState', parts: [{ section: 'serial', groups: [
    { title: 'grp.serialLine', fields: ['device', 'baud_rate', 'data_bits', 'stop_bits', 'parity', 'flow_control'] },
    { title: 'grp.serialUse', fields: ['use'] },
  ] }] },
  hardware: { manual: '6.1.8-6.1.12, 7.2.9', extra: 'hardware', parts: [{ section: 'hardware', groups: [
    { title: 'grp.hwLens', fields: ['lens.zoom_speed', 'lens.ptz_speed', 'lens.iris_mode', 'lens.init_on_start'] },
    { title: 'grp.hwFocus', fields: ['focus.speed', 'focus.mode'] },
    { title: 'grp.hwLight', fields: ['light.enabled', 'light.brightness'] },
    { title: 'grp.hwWiper', fields: ['wiper.interval_s'] },
    { title: 'grp.hwVideoOutput', fields: ['video_output.enabled'] },
  ] }] },
};
