<?php
// Every comment as WordPress stores it, with its post's title, as JSON (ordered by id).
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
global $wpdb;
$rows = $wpdb->get_results("SELECT c.comment_ID, c.comment_parent, c.comment_author, c.comment_author_email,
    c.comment_author_url, c.comment_date_gmt, c.comment_content, c.comment_approved, p.post_title
    FROM {$wpdb->comments} c JOIN {$wpdb->posts} p ON p.ID = c.comment_post_ID ORDER BY c.comment_ID", ARRAY_A);
$counts = [];
foreach ($wpdb->get_results("SELECT post_title, comment_count FROM {$wpdb->posts} WHERE post_type = 'post'", ARRAY_A) as $p) {
    $counts[$p['post_title']] = (int) $p['comment_count'];
}
echo json_encode(['comments' => $rows, 'comment_counts' => $counts]);
