<?php
// The theme's comments template, replaced: Rejoinder's comments for this post (rejoinder.php).
if (!defined('ABSPATH')) {
    exit;
}
?>
<section id="comments" class="comments-area">
<?php echo rejoinder_embed(); // phpcs:ignore WordPress.Security.EscapeOutput -- built with esc_attr/esc_url ?>
</section>
