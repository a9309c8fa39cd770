<?php
/**
 * Plugin Name: Rejoinder
 * Description: Live, threaded comments from your Rejoinder server in place of WordPress's comment form. On activation (and when its settings are saved) it copies the existing comments over; signed-in members comment under their own names.
 * Version: 0.1.0
 * Requires at least: 6.0
 * Requires PHP: 7.4
 * License: MIT
 * Text Domain: rejoinder
 */

if (!defined('ABSPATH')) {
    exit;
}

const REJOINDER_OPTIONS = ['rejoinder_url', 'rejoinder_site', 'rejoinder_secret'];

/** The server's address, the site id and the site's single sign-on secret, or null until all three are set. */
function rejoinder_config(): ?array {
    $url = rtrim((string) get_option('rejoinder_url', ''), '/');
    $site = (string) get_option('rejoinder_site', '');
    $secret = (string) get_option('rejoinder_secret', '');
    if ($url === '' || $site === '' || $secret === '' || !preg_match('#^https?://#', $url)) {
        return null;
    }
    return ['url' => $url, 'site' => $site, 'secret' => $secret];
}

function rejoinder_b64url(string $bytes): string {
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/** An HS256 JWT signed with the site's secret (the server checks it: auth/sso.py). */
function rejoinder_jwt(array $claims, string $secret): string {
    $head = rejoinder_b64url(wp_json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
    $body = rejoinder_b64url(wp_json_encode($claims));
    return "$head.$body." . rejoinder_b64url(hash_hmac('sha256', "$head.$body", $secret, true));
}

/** The signed-in member, for the comments to know without a second sign-in (data-sso), or ''. */
function rejoinder_member_token(array $config): string {
    if (!is_user_logged_in()) {
        return '';
    }
    $user = wp_get_current_user();
    $now = time();
    $claims = ['aud' => $config['site'], 'sub' => (string) $user->ID, 'name' => $user->display_name,
               'iat' => $now, 'exp' => $now + 600, 'jti' => bin2hex(random_bytes(12))];
    if ($user->user_email) {
        $claims['email'] = $user->user_email;
    }
    $avatar = get_option('show_avatars') ? get_avatar_url($user->ID) : '';
    if (is_string($avatar) && strpos($avatar, 'https://') === 0) {
        $claims['avatar'] = $avatar;
    }
    if ($user->user_url && strpos($user->user_url, 'https://') === 0) {
        $claims['url'] = $user->user_url;
    }
    return rejoinder_jwt($claims, $config['secret']);
}

// --- the comments: the widget in place of the theme's comments template -----------------------------

add_filter('comments_template', function ($template) {
    return rejoinder_config() && is_singular() ? __DIR__ . '/comments.php' : $template;
}, 20);

/** The placeholder and the loader for the current post. */
function rejoinder_embed(): string {
    $config = rejoinder_config();
    if (!$config) {
        return '';
    }
    $attrs = [
        'data-site' => $config['site'],
        'data-page' => get_permalink(),
        'data-title' => get_the_title(),
        'data-lang' => get_bloginfo('language'),
    ];
    $sso = rejoinder_member_token($config);
    $out = '<div id="rejoinder"' . ($sso !== '' ? ' data-sso="' . esc_attr($sso) . '"' : '') . '></div>';
    $out .= '<script src="' . esc_url($config['url'] . '/embed.js') . '"';
    foreach ($attrs as $name => $value) {
        $out .= ' ' . $name . '="' . esc_attr((string) $value) . '"';
    }
    return $out . ' async></script>';
}

// --- counts: WordPress's own numbers follow the thread's -----------------------------------------------

/** Comment counts of these posts from the server (one request for all, kept a minute). */
function rejoinder_counts(array $post_ids): array {
    $config = rejoinder_config();
    if (!$config || !$post_ids) {
        return [];
    }
    $out = [];
    $ask = [];
    foreach ($post_ids as $id) {
        $cached = get_transient('rejoinder_count_' . $id);
        if ($cached !== false) {
            if ((int) $cached >= 0) {
                $out[$id] = (int) $cached;  // -1: the server did not answer a moment ago; WordPress's own count
            }
        } else {
            $ask[get_permalink($id)] = $id;
        }
    }
    if ($ask) {
        $response = wp_remote_post($config['url'] . '/api/counts', [
            'timeout' => 3,
            'headers' => ['Content-Type' => 'application/json'],
            'body' => wp_json_encode(['site' => $config['site'], 'pages' => array_keys(array_slice($ask, 0, 100, true))]),
        ]);
        $data = is_wp_error($response) ? null : json_decode(wp_remote_retrieve_body($response), true);
        foreach (($data['counts'] ?? []) as $page => $n) {
            if (isset($ask[$page])) {
                $out[$ask[$page]] = (int) $n;
                set_transient('rejoinder_count_' . $ask[$page], (int) $n, MINUTE_IN_SECONDS);
            }
        }
        // A server that did not answer is not asked again for a minute: pages do not wait on it each time.
        foreach ($ask as $id) {
            if (!isset($out[$id])) {
                set_transient('rejoinder_count_' . $id, -1, MINUTE_IN_SECONDS);
            }
        }
    }
    return $out;
}

add_filter('get_comments_number', function ($count, $post_id) {
    $counts = rejoinder_counts([(int) $post_id]);
    return $counts[(int) $post_id] ?? $count;
}, 20, 2);

// A list of posts asks for all their counts at once.
add_action('loop_start', function ($query) {
    if (!is_admin() && !is_singular() && $query instanceof WP_Query && $query->posts) {
        rejoinder_counts(wp_list_pluck($query->posts, 'ID'));
    }
});

// --- the existing comments, copied to the server (idempotent: the server adds only what is missing) -------

/** Send the site's comments as WordPress exports them (WXR) to the server's import. */
function rejoinder_import(): array {
    $config = rejoinder_config();
    if (!$config) {
        return ['ok' => false, 'message' => __('Fill in the Rejoinder settings first.', 'rejoinder')];
    }
    require_once ABSPATH . 'wp-admin/includes/export.php';
    ob_start();
    export_wp(['content' => 'all']);
    $wxr = ob_get_clean();
    // export_wp() sends a download's headers: this request is not a download.
    if (!headers_sent()) {
        header_remove('Content-Description');
        header_remove('Content-Disposition');
        header_remove('Content-Type');
        header('Content-Type: text/html; charset=' . get_option('blog_charset'));
    }
    $now = time();
    $token = rejoinder_jwt(['aud' => $config['site'], 'scope' => 'import', 'iat' => $now, 'exp' => $now + 300,
                            'jti' => bin2hex(random_bytes(12))], $config['secret']);
    $response = wp_remote_post($config['url'] . '/api/admin/sites/' . rawurlencode($config['site']) . '/import?format=wxr', [
        'timeout' => 120,
        'headers' => ['Authorization' => 'Bearer ' . $token, 'Content-Type' => 'application/xml'],
        'body' => $wxr,
    ]);
    if (is_wp_error($response)) {
        $result = ['ok' => false, 'message' => $response->get_error_message()];
    } else {
        $data = json_decode(wp_remote_retrieve_body($response), true);
        $code = wp_remote_retrieve_response_code($response);
        $result = $code === 200
            ? ['ok' => true, 'message' => (string) ($data['summary'] ?? ''), 'report' => $data['report'] ?? []]
            : ['ok' => false, 'message' => (string) ($data['error']['message'] ?? "HTTP $code")];
    }
    update_option('rejoinder_last_import', $result + ['at' => $now], false);
    return $result;
}

register_activation_hook(__FILE__, 'rejoinder_import');
// Settings saved: copy again (what is there already is not copied twice).
add_action('update_option_rejoinder_secret', 'rejoinder_import', 10, 0);

add_action('admin_notices', function () {
    $last = get_option('rejoinder_last_import');
    if (!is_array($last) || !current_user_can('manage_options') || ($last['at'] ?? 0) < time() - 300) {
        return;
    }
    printf('<div class="notice notice-%s is-dismissible" id="rejoinder-import"><p>%s %s</p></div>',
           $last['ok'] ? 'success' : 'error', esc_html__('Rejoinder: comments copied.', 'rejoinder'),
           esc_html($last['message']));
});

// --- settings: Settings > Rejoinder -----------------------------------------------------------------

add_action('admin_init', function () {
    foreach (REJOINDER_OPTIONS as $option) {
        register_setting('rejoinder', $option, ['type' => 'string', 'sanitize_callback' => 'sanitize_text_field']);
    }
});

add_action('admin_menu', function () {
    add_options_page('Rejoinder', 'Rejoinder', 'manage_options', 'rejoinder', function () {
        $fields = [
            'rejoinder_url' => [__('Server address', 'rejoinder'), 'https://comments.example.com'],
            'rejoinder_site' => [__('Site id', 'rejoinder'), 'myblog'],
            'rejoinder_secret' => [__('Single sign-on secret', 'rejoinder'), 'rejoinder site update myblog --sso new'],
        ];
        echo '<div class="wrap"><h1>Rejoinder</h1><form method="post" action="options.php">';
        settings_fields('rejoinder');
        echo '<table class="form-table">';
        foreach ($fields as $name => [$label, $hint]) {
            printf('<tr><th><label for="%1$s">%2$s</label></th><td><input class="regular-text" id="%1$s" name="%1$s" '
                   . 'type="%3$s" value="%4$s" placeholder="%5$s"></td></tr>', esc_attr($name), esc_html($label),
                   $name === 'rejoinder_secret' ? 'password' : 'text', esc_attr((string) get_option($name, '')),
                   esc_attr($hint));
        }
        echo '</table>';
        submit_button();
        echo '</form></div>';
    });
});
