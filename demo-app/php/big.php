<?php
// Streams ?mb=N (default 20, at most 1024) MiB of deterministic bytes, for download tests.
// MiB number m is: m as a 4-byte big-endian integer, then bytes 4.. of BLOCK, where BLOCK is the
// concatenation of sha256("tether-0"), sha256("tether-1"), ... sha256("tether-32767") (raw, 32 bytes each).
$mb = max(0, min(1024, (int) ($_GET['mb'] ?? 20)));
$block = '';
for ($k = 0; $k < 32768; $k++) {
    $block .= hash('sha256', 'tether-' . $k, true);
}
$tail = substr($block, 4);
header('Content-Type: application/octet-stream');
header('Content-Length: ' . ($mb * 1048576));
header('Cache-Control: no-store');
while (ob_get_level() > 0) {
    ob_end_clean();
}
for ($m = 0; $m < $mb; $m++) {
    echo pack('N', $m), $tail;
    flush();
}
