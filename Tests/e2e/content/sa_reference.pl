#!/usr/bin/perl
# SpamAssassin reference runner for Warden's content-rule differential tests.
#
#   perl sa_reference.pl RULES_DIR MESSAGE.eml [ENVELOPE_FROM]
#
# Loads ONLY the *.cf files of RULES_DIR (no stock rules, no /etc/spamassassin,
# no user_prefs, no network tests), checks MESSAGE.eml and prints one JSON
# object on stdout:
#
#   {"score": 3.5, "hits": [scored rules hit, sorted, once each],
#    "subrules": [__ sub-rules hit, sorted], "counts": {"RULE": hits, ...}}
#
# "counts" has every rule (scored or __) whose hit count is > 0; for
# "tflags multiple" rules that is the number of matches (capped by maxhits=N),
# for metas it is the value of the meta expression (e.g. 2 for "A + B").
# "score" is SpamAssassin's total: a "multiple" rule adds its score per hit.
#
# Exit status: 0 on success; 2 when the rules do not lint cleanly (the lint
# messages go to stderr, nothing goes to stdout); 1 on usage or I/O errors.
#
# Envelope sender (ENVELOPE_FROM): SpamAssassin has no API argument for the
# SMTP MAIL FROM. It computes the "EnvelopeFrom" pseudo-header once, in
# PerMsgStatus::get_envelope_from(), from the header named by
# "envelope_sender_header" if that is configured, else heuristically from
# Received (envelope-from), X-Envelope-From, Envelope-Sender or Return-Path,
# and caches the result in $pms->{envelopefrom}. Adding a header in memory
# would change what "ALL", "full" and "rawbody" rules see, so this runner
# instead pre-seeds that cache with the given address (angle brackets
# stripped; "<>" or "" means the null sender) before check(), and verifies
# afterwards that $pms->get('EnvelopeFrom') returns exactly that value (it
# dies otherwise, so a SpamAssassin upgrade that changes this internal is
# caught). Without ENVELOPE_FROM SpamAssassin's own heuristic applies
# (Return-Path in the corpus messages).
use strict;
use warnings;

use File::Spec;
use File::Temp qw(tempdir);
use JSON::PP;

sub usage {
  print STDERR "usage: perl sa_reference.pl RULES_DIR MESSAGE.eml [ENVELOPE_FROM]\n";
  exit 1;
}

my ($rules_dir, $msg_file, $envelope_from) = @ARGV;
usage() unless defined $msg_file && @ARGV <= 3;
-d $rules_dir or do { print STDERR "sa_reference: not a directory: $rules_dir\n"; exit 1 };
$rules_dir = File::Spec->rel2abs($rules_dir);

# SpamAssassin would also read RULES_DIR/*.pre (plugin loading); refuse them so
# that the rule set is exactly the .cf files.
opendir(my $dh, $rules_dir) or die "sa_reference: $rules_dir: $!\n";
my @cf  = sort grep { /\.cf\z/ && -f "$rules_dir/$_" } readdir($dh);
rewinddir($dh);
my @pre = grep { /\.pre\z/ } readdir($dh);
closedir($dh);
if (@pre) {
  print STDERR "sa_reference: $rules_dir has .pre files (@pre); only .cf files are allowed\n";
  exit 1;
}
if (!@cf) {
  print STDERR "sa_reference: no .cf files in $rules_dir\n";
  exit 1;
}

open(my $fh, '<:raw', $msg_file) or do { print STDERR "sa_reference: $msg_file: $!\n"; exit 1 };
my @message = <$fh>;
close($fh);

# Empty site rules dir, empty home and empty user prefs: nothing from /etc,
# ~/.spamassassin or the stock rules can leak in.
my $tmp = tempdir('sa-reference-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $site_dir = "$tmp/site";
my $home     = "$tmp/home";
mkdir $site_dir or die "sa_reference: mkdir $site_dir: $!\n";
mkdir $home     or die "sa_reference: mkdir $home: $!\n";
my $prefs = "$tmp/user_prefs";
open(my $pf, '>', $prefs) or die "sa_reference: $prefs: $!\n";
close($pf);
$ENV{HOME} = $home;

require Mail::SpamAssassin;

# The rule engine (header/body/rawbody/full/uri/meta) lives in the Check
# plugin, which stock installs load from v320.pre; no other plugin is loaded.
#
# The list of valid TLDs (util_rb_tld/util_rb_2tld/util_rb_3tld) normally
# comes with the stock rules (20_aux_tlds.cf). Without it SpamAssassin warns
# "registryboundaries: no tlds defined" and extracts NO URIs at all, so
# "uri" rules could never hit. That file holds only registry data, no rules;
# it is taken from the packaged rules dir (not from sa-update's copy, to stay
# reproducible). Note that .test is not a TLD there: URIs and mailto:
# addresses in .test are not extracted.
my $tld_file;
for my $dir ('/usr/share/spamassassin', '/var/lib/spamassassin') {
  if (-f "$dir/20_aux_tlds.cf") { $tld_file = "$dir/20_aux_tlds.cf"; last }
}
if (!defined $tld_file) {
  print STDERR "sa_reference: 20_aux_tlds.cf (SpamAssassin's TLD list) not found\n";
  exit 1;
}
my $tld_text = do {
  open(my $t, '<', $tld_file) or die "sa_reference: $tld_file: $!\n";
  local $/; <$t>;
};
if ($tld_text =~ /^\s*(?:header|body|rawbody|full|uri|meta|score)\s/m) {
  die "sa_reference: $tld_file unexpectedly contains rules\n";
}
my $pre_config = "loadplugin Mail::SpamAssassin::Plugin::Check\n"
               . "file start $tld_file\n$tld_text\nfile end $tld_file\n";

sub new_sa {
  my (%extra) = @_;
  return Mail::SpamAssassin->new({
    rules_filename       => $rules_dir,
    site_rules_filename  => $site_dir,
    userprefs_filename   => $prefs,
    userstate_dir        => "$home/.spamassassin",
    home_dir_for_helpers => $home,
    local_tests_only     => 1,
    dont_copy_prefs      => 1,
    require_rules        => 1,
    pre_config_text      => $pre_config,
    %extra,
  });
}

# --- 1. lint: every config problem is reported, any error is fatal -------
{
  my @lint;
  my $lint_sa = new_sa(
    lint_callback => sub {
      my (%a) = @_;
      push @lint, ($a{iserror} ? 'error: ' : 'warning: ') . $a{msg};
    },
  );
  my $errors;
  {
    local $SIG{__WARN__} = sub { push @lint, 'warn: ' . $_[0] };
    $errors = eval { $lint_sa->lint_rules() };
    if ($@) { push @lint, "die: $@"; $errors = 1 }
  }
  $lint_sa->finish();
  if ($errors || @lint) {
    chomp(@lint);
    print STDERR "sa_reference: rules in $rules_dir do not lint cleanly"
      . ($errors ? " ($errors errors)" : '') . ":\n";
    print STDERR "  $_\n" for @lint;
    exit 2;
  }
}

# --- 2. check the message ------------------------------------------------
my $sa = new_sa();
$sa->init(1);

my $mail   = $sa->parse(\@message, 1);
my $status = Mail::SpamAssassin::PerMsgStatus->new($sa, $mail,
                                                   { disable_auto_learning => 1 });
if (defined $envelope_from) {
  my $ef = $envelope_from;
  $ef =~ s/^\s+|\s+\z//g;
  $ef =~ s/^<(.*)>\z/$1/;
  $status->{envelopefrom} = $ef;   # see the header comment
}

$status->check();

if (defined $envelope_from) {
  my @got = $status->get('EnvelopeFrom');
  my $want = $status->{envelopefrom};
  if ($want ne '' && !(@got == 1 && $got[0] eq $want)) {
    die "sa_reference: EnvelopeFrom override did not take (got '@got', want '$want')\n";
  }
}

my $hit  = $status->{tests_already_hit} || {};
my %counts = map { ($_ => $hit->{$_} + 0) } grep { $hit->{$_} } keys %$hit;

my %seen;
my @hits = grep { !$seen{$_}++ } sort split /,/, $status->get_names_of_tests_hit();
%seen = ();
my @subrules = grep { !$seen{$_}++ } sort split /,/, $status->get_names_of_subtests_hit();

my $score = $status->get_score() + 0;
$score = 0 + sprintf('%.3f', $score);   # avoid 2.9999999999

$status->finish();
$mail->finish();
$sa->finish();

my $json = JSON::PP->new->canonical(1);
print $json->encode({
  score    => $score,
  hits     => \@hits,
  subrules => \@subrules,
  counts   => \%counts,
}), "\n";
exit 0;
