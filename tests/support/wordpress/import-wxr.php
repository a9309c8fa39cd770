<?php
// Read a WXR file (path in argv[1]) into this WordPress the way WordPress's importer plugin does:
// a post per <item> (an existing post of the same title is reused), each <wp:comment> stored by
// wp_insert_comment with its author, dates, approval and its parent mapped to the new ids, in file
// order. Debian ships no importer plugin and none can be downloaded here, so this is the test's own
// reader of the WXR fields that plugin reads. Prints {"posts": n, "comments": n}.
$_SERVER['HTTP_HOST'] = 'localhost';
require __DIR__ . '/wp-load.php';
$xml = simplexml_load_file($argv[1], 'SimpleXMLElement', LIBXML_NONET);
if ($xml === false) { fwrite(STDERR, "not XML\n"); exit(1); }
$ns = $xml->getNamespaces(true);
$wp_ns = $ns['wp'];
$posts = 0; $comments = 0;
foreach ($xml->channel->item as $item) {
    $wp = $item->children($wp_ns);
    $title = (string) $item->title;
    $existing = get_posts(['title' => $title, 'post_type' => 'post', 'post_status' => 'any', 'numberposts' => 1]);
    if ($existing) {
        $post_id = $existing[0]->ID;
    } else {
        $post_id = wp_insert_post(['post_title' => $title, 'post_content' => (string) $item->children($ns['content'])->encoded,
                                   'post_status' => 'publish', 'post_date' => (string) $wp->post_date,
                                   'comment_status' => (string) $wp->comment_status ?: 'open'], true);
        if (is_wp_error($post_id)) { fwrite(STDERR, $post_id->get_error_message()); exit(1); }
        $posts++;
    }
    $inserted = [];
    foreach ($wp->comment as $c) {
        $old = (int) $c->comment_id;
        $parent = (int) $c->comment_parent;
        $id = wp_insert_comment(wp_slash([
            'comment_post_ID' => $post_id, 'comment_author' => (string) $c->comment_author,
            'comment_author_email' => (string) $c->comment_author_email,
            'comment_author_url' => (string) $c->comment_author_url,
            'comment_author_IP' => (string) $c->comment_author_IP,
            'comment_date' => (string) $c->comment_date, 'comment_date_gmt' => (string) $c->comment_date_gmt,
            'comment_content' => (string) $c->comment_content, 'comment_approved' => (string) $c->comment_approved,
            'comment_type' => (string) $c->comment_type ?: 'comment',
            'comment_parent' => $parent && isset($inserted[$parent]) ? $inserted[$parent] : 0,
        ]));
        if (!$id) { fwrite(STDERR, "comment $old not stored\n"); exit(1); }
        $inserted[$old] = $id;
        $comments++;
    }
    wp_update_comment_count_now($post_id);
}
echo json_encode(['posts' => $posts, 'comments' => $comments]);
