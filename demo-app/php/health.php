<?php
// Health check for the load balancer: no session (it must never create or touch one).
header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
echo "ok\n";
