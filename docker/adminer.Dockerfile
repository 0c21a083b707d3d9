FROM adminer:4.8.1
# Adminer answers under /db/, where nginx publishes it, through the same router `make stack` uses.
COPY docker/adminer-router.php /router.php
CMD ["php", "-S", "[::]:8080", "-t", "/var/www/html", "/router.php"]
