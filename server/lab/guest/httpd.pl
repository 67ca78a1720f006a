#!/usr/bin/perl
# A real server's web server in the lab: answers every request with
# "from <its own address>" so a client can see which server it reached.
#   perl httpd.pl ADDRESS PORT...
# Perl rather than node: it starts in a fraction of the time inside
# user-mode Linux, and the lab starts two of these. Only perl-base modules.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($address, @ports) = @ARGV;
die "usage: perl httpd.pl ADDRESS PORT...\n" unless $address && @ports;
my $body = "from $address\n";
my $reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
  . length($body) . "\r\nConnection: close\r\n\r\n$body";

$SIG{TERM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';
my $listeners = IO::Select->new;
for my $port (@ports) {
  # 0.0.0.0 so the same socket serves the RIP (NAT) and the VIP on lo (DR, TUN)
  my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $port, Listen => 128, ReuseAddr => 1, Proto => 'tcp')
    or die "httpd: cannot listen on port $port: $!\n";
  $listeners->add($s);
}
while (1) {
  for my $l ($listeners->can_read) {
    my $c = $l->accept or next;
    # one request per connection; a silent client gets 2 s, then is dropped
    my ($req, $sel) = ('', IO::Select->new($c));
    while ($req !~ /\r?\n\r?\n/ && $sel->can_read(2)) {
      my $n = sysread($c, $req, 4096, length $req);
      last unless $n;
    }
    syswrite($c, $reply) if $req =~ /\r?\n\r?\n/;
    close $c;
  }
}
