<?php
// Router for `php -S`: Adminer answers under /db/ (where nginx publishes it), everything else is a 404.
// ADMINER_PHP: Debian's /usr/share/adminer/adminer.php, or the official image's /var/www/html/adminer.php.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/db/') {
    http_response_code(404);
    return true;
}
// Opened bare, the login form comes with the database server and user filled in.
if (($_SERVER['QUERY_STRING'] ?? '') === '') {
    $server = getenv('ADMINER_DEFAULT_SERVER') ?: 'db';
    $user = getenv('POSTGRES_USER') ?: 'postgres';
    header('Location: /db/?' . http_build_query(['pgsql' => $server, 'username' => $user]), true, 302);
    return true;
}
// Adminer connects to whatever server a request names: locked here to the configured one, so an admin
// session cannot aim it at other hosts and ports of the internal network (server-side request forgery,
// ASVS 5.0 V1.3.6). Asking for its own static files (`?file=`) names no server and is let through.
$allowed = getenv('ADMINER_DEFAULT_SERVER') ?: 'db';
$drivers = ['server', 'sqlite', 'sqlite2', 'pgsql', 'oracle', 'mssql', 'mongo', 'elastic', 'firebird', 'simpledb', 'clickhouse'];
$named = array_values(array_intersect($drivers, array_keys($_GET)));
$staticFile = $named === [] && isset($_GET['file']);
$auth = $_POST['auth'] ?? null;
$refused = !$staticFile && ($named !== ['pgsql'] || $_GET['pgsql'] !== $allowed)
    || (is_array($auth) && (($auth['driver'] ?? '') !== 'pgsql' || ($auth['server'] ?? '') !== $allowed));
if ($refused) {
    http_response_code(403);
    header('Content-Type: text/plain; charset=utf-8');
    echo "This database console connects only to the PostgreSQL server at $allowed.\n";
    return true;
}
$adminer = getenv('ADMINER_PHP') ?: '/var/www/html/adminer.php';
chdir(dirname($adminer));
require $adminer;
