<!doctype html>
<html <?php language_attributes(); ?>>
<head><meta charset="<?php bloginfo('charset'); ?>"><title><?php wp_title(); ?></title><?php wp_head(); ?></head>
<body>
<main>
<?php if (is_singular()) : the_post(); ?>
  <article><h1><?php the_title(); ?></h1><?php the_content(); ?></article>
  <?php comments_template(); ?>
<?php else : ?>
  <h1><?php bloginfo('name'); ?></h1>
  <?php while (have_posts()) : the_post(); ?>
    <article class="post-summary"><h2><a href="<?php the_permalink(); ?>"><?php the_title(); ?></a></h2>
      <p class="count"><?php comments_number(); ?></p></article>
  <?php endwhile; ?>
<?php endif; ?>
</main>
<?php wp_footer(); ?>
</body>
</html>
