<?php
// Ready a WordPress for the Rejoinder plugin's test, as its owner would: the plugin and a classic theme in
// place (copied by the test), that theme switched on, and the plugin's settings filled in (argv: server URL,
// site id, single sign-on secret). The plugin itself is activated from wp-admin by the test, in Chromium.
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
switch_theme('rejoinder-test');
// No Gravatar pictures: the test's machine has no way out (WordPress would ask gravatar.com for each).
update_option('show_avatars', 0);
update_option('rejoinder_url', $argv[1]);
update_option('rejoinder_site', $argv[2]);
update_option('rejoinder_secret', $argv[3]);
echo json_encode(['theme' => get_stylesheet()]);
