<?php
// Answers the sha256 and length of the request body, read as a stream (no size limit but post_max_size).
header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
$in = fopen('php://input', 'rb');
$hash = hash_init('sha256');
$length = 0;
while (!feof($in)) {
    $chunk = fread($in, 1 << 16);
    if ($chunk === false || $chunk === '') {
        break;
    }
    $length += strlen($chunk);
    hash_update($hash, $chunk);
}
fclose($in);
echo 'sha256=' . hash_final($hash) . ' length=' . $length . "\n";
