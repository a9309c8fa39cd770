<?php
// The id of the newest published post (prints it).
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
$posts = get_posts(['numberposts' => 1, 'post_status' => 'publish']);
echo $posts ? $posts[0]->ID : 0;
