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
$adminer = getenv('ADMINER_PHP') ?: '/var/www/html/adminer.php';
chdir(dirname($adminer));
require $adminer;
