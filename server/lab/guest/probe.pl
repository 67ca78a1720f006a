#!/usr/bin/perl
# The lab client's view of a service: COUNT requests, one after the other,
# one line each: "ok from <address>" (the body names the real server),
# "refused", "timeout", "reset" or "error <why>". Run in the client namespace:
#   ip netns exec client perl probe.pl ADDRESS PORT COUNT [TIMEOUT_S]
# Perl, like httpd.pl: it starts in a fraction of node's time in the lab.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Errno qw(ECONNREFUSED ECONNRESET ETIMEDOUT EINPROGRESS EALREADY);

my ($address, $port, $count, $timeout) = @ARGV;
die "usage: perl probe.pl ADDRESS PORT COUNT [TIMEOUT_S]\n" unless $address && $port && $count;
$timeout ||= 2;
$| = 1;
for (1 .. $count) {
  my $s = IO::Socket::INET->new(PeerAddr => $address, PeerPort => $port, Proto => 'tcp', Timeout => $timeout);
  if (!$s) {
    my $e = $!;
    if ($!{ECONNREFUSED}) { print "refused\n" }
    elsif ($!{ETIMEDOUT} || $!{EINPROGRESS} || $!{EALREADY} || $@ =~ /timeout/i) { print "timeout\n" }
    else { print "error $e\n" }
    next;
  }
  syswrite($s, "GET / HTTP/1.0\r\nHost: $address\r\n\r\n");
  my ($reply, $sel, $why) = ('', IO::Select->new($s), '');
  while (1) {
    if (!$sel->can_read($timeout)) { $why = 'timeout'; last }
    my $n = sysread($s, $reply, 4096, length $reply);
    if (!defined $n) { $why = $!{ECONNRESET} ? 'reset' : "error $!"; last }
    last if $n == 0;
  }
  close $s;
  if ($reply =~ /^HTTP\/1\.[01] 200 .*\r?\n\r?\nfrom (\S+)/s) { print "ok from $1\n" }
  elsif ($why) { print "$why\n" }
  else { print "error unexpected reply\n" }
}
