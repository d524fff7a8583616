<?php
// The demo page: a per-user visit counter kept in the PHP session. Sessions live in Memcached
// (session.save_handler = memcached), so every web server can read every user's session.
header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
if (!session_start()) {
    // never count from 1 again silently: a session that cannot be read is an error the user can see
    http_response_code(500);
    echo "error: session_start failed (is memcached reachable?)\n";
    exit;
}
$_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
$server = getenv('SERVER_NAME_TAG') ?: gethostname();
echo 'server=' . $server . ' count=' . $_SESSION['count'] . ' session=' . session_id() . "\n";
