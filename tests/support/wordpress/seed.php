<?php
// Write posts and their comments through WordPress's own functions, from JSON on stdin:
// [{"title", "date", "comments": [{"key", "parent" (a key or null), "author", "email", "url", "content",
//   "date_gmt", "approved"}]}]. Prints {"<key>": <comment id>}.
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
$posts = json_decode(file_get_contents('php://stdin'), true);
$ids = [];
foreach ($posts as $p) {
    $post_id = wp_insert_post(['post_title' => $p['title'], 'post_content' => 'A post.', 'post_status' => 'publish',
                               'post_date' => $p['date'], 'post_author' => 1], true);
    if (is_wp_error($post_id)) { fwrite(STDERR, $post_id->get_error_message()); exit(1); }
    foreach ($p['comments'] as $c) {
        $gmt = $c['date_gmt'];
        $id = wp_insert_comment([
            'comment_post_ID' => $post_id, 'comment_author' => $c['author'], 'comment_author_email' => $c['email'],
            'comment_author_url' => $c['url'], 'comment_content' => $c['content'], 'comment_type' => 'comment',
            'comment_parent' => $c['parent'] === null ? 0 : $ids[$c['parent']],
            'comment_date' => get_date_from_gmt($gmt), 'comment_date_gmt' => $gmt,
            'comment_approved' => $c['approved'],
        ]);
        if (!$id) { fwrite(STDERR, 'comment not stored'); exit(1); }
        $ids[$c['key']] = $id;
    }
}
echo json_encode($ids);
