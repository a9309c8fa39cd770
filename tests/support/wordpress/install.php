<?php
// Install WordPress into the database of wp-config.php (run from the WordPress root with php-cli).
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = wp_install('Round trip blog', 'admin', 'admin@blog.test', false, '', 'admin-password-1');
// A fresh site with nothing of its own: no sample post or comment to tell apart from the test's.
wp_delete_post(1, true);
wp_delete_post(2, true);
echo json_encode(['user_id' => $result['user_id']]);
