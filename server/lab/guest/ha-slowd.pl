#!/usr/bin/perl
# A real server's slow download endpoint for the lab's connection-sync test:
# "GET /?s=N" answers N*10 KiB (default N=20), one KiB every 100 ms, so one
# TCP connection stays open across a director failover.
#   perl ha-slowd.pl ADDRESS PORT
# One child process per connection (httpd.pl serves one request at a time).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes ();

my ($address, $port) = @ARGV;
die "usage: perl ha-slowd.pl ADDRESS PORT\n" unless $address && $port;
$SIG{CHLD} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub { exit 0 };
my $l = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $port, Listen => 64, ReuseAddr => 1, Proto => 'tcp')
  or die "slowd: cannot listen on port $port: $!\n";
while (1) {
  my $c = $l->accept or next;
  my $pid = fork;
  if (!defined $pid) { close $c; next; }
  if ($pid) { close $c; next; }
  close $l;
  my ($req, $sel) = ('', IO::Select->new($c));
  while ($req !~ /\r?\n\r?\n/ && $sel->can_read(5)) {
    my $n = sysread($c, $req, 4096, length $req);
    last unless $n;
  }
  POSIX::_exit(0) unless $req =~ /\r?\n\r?\n/;
  my $secs = $req =~ /^GET \S*[?&]s=(\d+)/ ? $1 : 20;
  $secs = 120 if $secs > 120;
  my $chunk = sprintf("%-1023s\n", "from $address");
  my $total = $secs * 10 * length $chunk;
  syswrite($c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: $total\r\nConnection: close\r\n\r\n") or POSIX::_exit(1);
  for (1 .. $secs * 10) {
    defined syswrite($c, $chunk) or POSIX::_exit(1);
    Time::HiRes::sleep(0.1);
  }
  close $c;
  POSIX::_exit(0);
}
