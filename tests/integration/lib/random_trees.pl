#!/usr/bin/perl
# Randomized runs of smbcopy (driven by tests/integration/cli_random.sh).
#
# Each run, from its own seed: random source trees (1 to 3 sources, local or
# on the share, nested directories, names that differ only in case, the same
# paths in several sources, file sources), a destination that is missing,
# empty or holds files (identical to a source's, extraneous, differing only
# in case, of the other type), siblings; a random command (upload, download,
# share to share, local to local; --mirror, --exclude, --dry-run, a source
# inside the destination, the destination inside a source, one location
# spelled two ways). Then `smbcopy --json` and, from snapshots of every file
# taken before and after:
#   1. every file of every source that no filter excludes is at its
#      destination path with identical bytes, or that path (or a directory
#      above it) is among the reported failures; two source files that map
#      to one destination name (the same path from two sources, names that
#      differ only in case on the case-insensitive share, a file and a
#      directory of one path) must both be reported, the destination
#      keeping what it had there; a failure of a source entry must have a
#      conflict as its reason (those, or a destination entry of the other
#      type);
#   2. nothing outside the destination changed (the missing parents of the
#      destination may appear), and no source changed;
#   3. nothing in the destination was deleted or changed unless the run was
#      asked to: a copy of the one source file of that name, or with
#      --mirror the deletion of an entry that no source has (of that type;
#      case-insensitively on the share), that no --exclude matches, and
#      whose directory had no failed copy (replacing an entry by the
#      sources' entry of the other type is part of copying that entry);
#   4. with --dry-run, and when the run was refused (exit 2: the
#      destination inside a source, or a source inside the destination with
#      --mirror; expected exactly then), nothing changed anywhere;
#   5. no .smbcopy-*.tmp entry left in or next to the destination after a
#      run that exited 0;
# and the exit status agrees with the JSON (0: nothing failed; 1: failures
# listed). A quarter of the runs run the command again: the same checks, no
# new failure, and after a clean first run nothing copied or deleted.
#
# Environment: SMBCOPY_CLI and the fixture's SMBCOPY_TEST_HOST, _PORT and
# _SHARE; RT_AUTH, RT_WORK, RT_SHARE, RT_NAME (from cli_random.sh);
# SMBCOPY_RANDOM_RUNS (default 200); SMBCOPY_RANDOM_SEED (the first run's
# seed; default from the clock); SMBCOPY_TEST_KEEP=1 keeps the trees of
# failing runs; SMBCOPY_RANDOM_VERBOSE=1 prints every run's command and
# failures; SMBCOPY_RANDOM_MAX_LINES problems shown per run (default 25).
use strict;
use warnings;
use Digest::MD5;
use File::Path qw(make_path remove_tree);
use JSON::PP;
use Time::HiRes qw(time);

sub env { my $v = $ENV{ $_[0] }; defined $v && $v ne '' or die "random_trees.pl: $_[0] not set\n"; $v }
my $cli   = env('SMBCOPY_CLI');
my $auth  = env('RT_AUTH');
my $work  = env('RT_WORK');          # local scratch directory
my $share = env('RT_SHARE');         # the test's directory on the share, as seen locally
my $name  = env('RT_NAME');          # its name on the share
my $host  = env('SMBCOPY_TEST_HOST');
my $port  = env('SMBCOPY_TEST_PORT');
my $sname = env('SMBCOPY_TEST_SHARE');
my $runs  = $ENV{SMBCOPY_RANDOM_RUNS} // 200;
my $base  = $ENV{SMBCOPY_RANDOM_SEED};
my $keep  = ($ENV{SMBCOPY_TEST_KEEP} // '') eq '1';
my $verbose = ($ENV{SMBCOPY_RANDOM_VERBOSE} // "") eq "1";
$runs =~ /^\d+$/ or die "random_trees.pl: SMBCOPY_RANDOM_RUNS must be a number\n";
if (!defined $base || $base eq '') {
    $base = (int(time() * 1000) ^ ($$ << 8)) % 1000000000;
}
$base =~ /^\d+$/ or die "random_trees.pl: SMBCOPY_RANDOM_SEED must be a number\n";

# Name pools. Names that differ only in case on purpose; names that are a
# file in one tree and a directory in another (x, top, cache). The names the
# filters match (*.log, *.bin, cache, top) have no case variants, so a
# filter decides the same whatever the case rules.
my @FILES = qw(Report.txt report.txt REPORT.TXT a.txt A.txt b.log z.log notes.md
    data.bin x top cache empty readme.txt README.txt c.dat);
my @DIRS = qw(Dir dir DIR sub docs Docs cache top x);
my @EXCLUDES = ('*.log', 'cache/', '/top', '*.bin');
my $TMP_RE = qr/^\.smbcopy-.*\.tmp$/;

# ---------------------------------------------------------------- helpers

sub pick { $_[ int(rand(scalar @_)) ] }
sub chance { rand() < $_[0] }
sub shq {
    my $s = shift;
    return $s if $s =~ m{^[A-Za-z0-9_./:=,+\@%-]+$};
    $s =~ s/'/'\\''/g;
    return "'$s'";
}
sub parent { my $p = shift; $p =~ s{/?[^/]*$}{}; $p }
sub base   { my $p = shift; $p =~ s{^.*/}{}; $p }
sub joinp  { join '/', grep { $_ ne '' } @_ }

# Random bytes (repeatable from the seed): small files from rand, large ones
# a random 64 KiB block with each copy's index and a file number stamped in.
sub rbytes {
    my $n = shift;
    return '' if $n <= 0;
    if ($n <= 65536) {
        my $s = pack('L*', map { int(rand(4294967296)) } 1 .. (($n + 3) >> 2));
        return substr($s, 0, $n);
    }
    my $blk = rbytes(65536);
    my $id  = int(rand(4294967296));
    my $out = '';
    for (my $i = 0; length($out) < $n; $i++) {
        my $b = $blk;
        substr($b, 0, 8) = pack('NN', $id, $i);
        $out .= $b;
    }
    return substr($out, 0, $n);
}
sub rsize {
    my $g = shift;
    if ($g->{big} > 0 && chance(0.15)) {
        $g->{big}--;
        return 1048576 + int(rand(400000));
    }
    my $r = rand();
    return 0 if $r < 0.15;
    return 1 + int(rand(100)) if $r < 0.5;
    return 100 + int(rand(8000)) if $r < 0.88;
    return 8000 + int(rand(150000));
}
sub rtime { 1500000000 + int(rand(100000000)) }

sub write_file {
    my ($path, $data, $mtime) = @_;
    open(my $fh, '>:raw', $path) or die "random_trees.pl: write $path: $!\n";
    print $fh $data;
    close($fh) or die "random_trees.pl: write $path: $!\n";
    utime($mtime, $mtime, $path) or die "random_trees.pl: utime $path: $!\n";
}

# Does directory ABS (on side SIDE) hold NAME, or on the share a name that
# differs from it only in case? Returns the name held, or undef.
sub held {
    my ($g, $side, $abs, $name) = @_;
    return $name if -e "$abs/$name" || -l "$abs/$name";
    return undef if $side eq 'L';
    opendir(my $dh, $abs) or return undef;
    my @hit = grep { lc($_) eq lc($name) } readdir($dh);
    return $hit[0];
}

# ------------------------------------------------------------- generation

# gen_tree(G, SIDE, REL, DEPTH, SRCNO): random entries in directory REL of
# side SIDE (L: local, S: share), down to 3 levels below the tree's top.
# $g->{made}{rel-in-tree} remembers earlier sources' files so that a later
# source sometimes holds the same path with the same bytes.
sub gen_tree {
    my ($g, $side, $rel, $trel, $depth) = @_;
    my $abs = "$g->{root}{$side}/$rel";
    my $n = $depth == 0 ? 1 + int(rand(5)) : int(rand(4));
    for (1 .. $n) {
        if ($depth < 3 && chance(0.35)) {
            my $d = pick(@DIRS);
            my $h = held($g, $side, $abs, $d);
            if (defined $h) {
                next if $h ne $d || !-d "$abs/$d";    # a case twin on the share, or a file
            } else {
                mkdir("$abs/$d") or die "random_trees.pl: mkdir $abs/$d: $!\n";
            }
            gen_tree($g, $side, "$rel/$d", joinp($trel, $d), $depth + 1);
        } else {
            my $f = pick(@FILES);
            next if defined held($g, $side, $abs, $f);
            make_file($g, "$abs/$f", joinp($trel, $f));
        }
    }
    # Names that differ only in case, side by side (a local tree only: the
    # share cannot hold both, as on Windows).
    if ($side eq 'L' && chance(0.3)) {
        opendir(my $dh, $abs) or die;
        my @have = sort grep { !/^\.\.?$/ } readdir($dh);
        closedir($dh);
        my @cand;
        for my $h (@have) {
            push @cand, map { [$h, $_] } grep { lc($_) eq lc($h) && $_ ne $h && !-e "$abs/$_" }
                (-d "$abs/$h" ? @DIRS : @FILES);
        }
        if (@cand) {
            my ($h, $t) = @{ pick(@cand) };
            if (-d "$abs/$h") {
                mkdir("$abs/$t") or die;
                my $f = pick(@FILES);
                make_file($g, "$abs/$t/$f", joinp($trel, $t, $f));
            } else {
                make_file($g, "$abs/$t", joinp($trel, $t));
            }
        }
    }
}
sub make_file {
    my ($g, $abs, $trel) = @_;
    my $m = $g->{made}{$trel};
    if ($m && chance(0.4)) {
        write_file($abs, $m->[0], $m->[1]);
        return;
    }
    my $data = rbytes(rsize($g));
    my $mt = rtime();
    write_file($abs, $data, $mt);
    $g->{made}{$trel} //= [$data, $mt];
}

# A source: a directory tree at REL, or a file in a holder directory.
sub gen_source {
    my ($g, $side, $rel, $kind) = @_;
    if ($kind eq 'f') {
        my $holder = $rel;
        make_path("$g->{root}{$side}/$holder");
        my $f = pick(grep { $_ ne 'top' } @FILES);
        make_file($g, "$g->{root}{$side}/$holder/$f", $f);
        # a neighbour that is not copied
        write_file("$g->{root}{$side}/$holder/neighbour.txt", rbytes(20), rtime());
        return { side => $side, rel => "$holder/$f", type => 'f' };
    }
    make_path("$g->{root}{$side}/$rel");
    gen_tree($g, $side, $rel, '', 0);
    return { side => $side, rel => $rel, type => 'd' };
}

# What the destination holds before the run: extraneous entries, copies of
# source files (identical, or other bytes with another time), names that
# differ only in case from a source's, entries of the other type.
sub gen_dest_content {
    my ($g, $side, $drel, $avoid) = @_;
    my $droot = "$g->{root}{$side}/$drel";
    gen_tree($g, $side, $drel, "\0dest", 0) if chance(0.7);
    my @files;
    for my $s (@{ $g->{sources} }) {
        my $sabs = "$g->{root}{ $s->{side} }/$s->{rel}";
        if ($s->{type} eq 'f') {
            push @files, [$sabs, base($s->{rel})];
            next;
        }
        my @stack = ('');
        while (@stack) {
            my $r = pop @stack;
            opendir(my $dh, $r eq '' ? $sabs : "$sabs/$r") or next;
            for my $e (sort grep { !/^\.\.?$/ } readdir($dh)) {
                my $er = joinp($r, $e);
                if (-d "$sabs/$er") { push @stack, $er; push @files, [undef, $er] }
                else { push @files, ["$sabs/$er", $er] }
            }
        }
    }
    for my $f (@files) {
        next unless chance(0.3);
        my ($src, $r) = @$f;
        next if defined $avoid && (lc($r) eq lc($avoid) || index(lc($r), lc($avoid) . '/') == 0);
        my @parts = split m{/}, $r;
        my $leaf = pop @parts;
        # make the parents (taking an existing spelling on the share)
        my $dir = $droot;
        my $ok = 1;
        for my $p (@parts) {
            my $h = held($g, $side, $dir, $p);
            if (!defined $h) { mkdir("$dir/$p") or die "random_trees.pl: mkdir $dir/$p: $!\n"; $h = $p }
            if (!-d "$dir/$h") { $ok = 0; last }
            $dir = "$dir/$h";
        }
        next unless $ok;
        my $r2 = rand();
        if (!defined $src) {
            # a source directory: sometimes a file of that name here
            next unless $r2 < 0.15 && !defined held($g, $side, $dir, $leaf);
            write_file("$dir/$leaf", rbytes(30), rtime());
            next;
        }
        my $name = $leaf;
        if ($r2 < 0.25) {
            # the same name in another case
            my @v = grep { lc($_) eq lc($leaf) && $_ ne $leaf } @FILES;
            next unless @v;
            $name = pick(@v);
        }
        next if defined held($g, $side, $dir, $name);
        my ($size, $mt) = (stat $src)[7, 9];
        my $r3 = rand();
        if ($r3 < 0.1) {
            # a directory where the source has a file
            mkdir("$dir/$name") or die;
            write_file("$dir/$name/inside.txt", rbytes(40), rtime());
        } elsif ($r3 < 0.5) {
            # the same bytes, the same or another time
            open(my $fh, '<:raw', $src) or die;
            local $/;
            my $data = <$fh>;
            write_file("$dir/$name", $data, chance(0.6) ? $mt : $mt + 7200);
        } else {
            # other bytes (the same size at times) and always another time,
            # so that size and time never call it up to date
            my $n = chance(0.4) ? $size : rsize($g);
            write_file("$dir/$name", rbytes($n), $mt + 3600 + int(rand(100000)));
        }
    }
}

# Location strings: local paths plain, through a link to the run's root, or
# with a /./; share URLs with 127.0.0.1 or localhost, the share name and the
# existing directories in some other case.
sub render {
    my ($g, $side, $rel, $opts) = @_;
    if ($side eq 'L') {
        my $v = pick(0, 0, 1, 2);
        my $root = $v == 1 ? $g->{link} : $g->{root}{L};
        my $p = $v == 2 ? "$root/./$rel" : "$root/$rel";
        return $p;
    }
    my $h = chance(0.3) ? 'localhost' : $host;
    my $sh = chance(0.3) ? uc($sname) : $sname;
    my @comp = ($name, "r$g->{seed}", split(m{/}, $rel));
    my $path = $share;
    my @out;
    for my $c (@comp) {
        my $exists = -e "$path/$c";
        $path .= "/$c";
        push @out, ($exists && $g->{scase} && chance(0.5)) ? uc($c) : $c;
    }
    return "smb://$h:$port/$sh/" . join('/', @out);
}

sub generate {
    my ($seed) = @_;
    srand($seed);
    my $g = { seed => $seed, big => chance(0.3) ? 1 : 0, made => {} };
    $g->{root}{L} = "$work/r$seed";
    $g->{root}{S} = "$share/r$seed";
    $g->{link} = "$work/links/r$seed";
    make_path($g->{root}{L}, $g->{root}{S}, "$work/links");
    symlink($g->{root}{L}, $g->{link}) or die "random_trees.pl: symlink: $!\n";

    my $mode = pick(qw(up up up down down down s2s s2s s2s local local));
    my ($sside, $dside) = @{ { up => ['L', 'S'], down => ['S', 'L'], s2s => ['S', 'S'], local => ['L', 'L'] }->{$mode} };
    $g->{mode} = $mode;
    $g->{scase} = chance(0.5);
    my $nsrc = pick(1, 1, 1, 2, 2, 3);
    my $overlap = 'none';
    $overlap = pick(qw(none none src_in_dst src_in_dst dst_in_src)) if $sside eq $dside;
    $g->{overlap} = $overlap;
    $g->{mirror} = chance($overlap eq 'none' ? 0.45 : 0.5);
    $g->{dry} = chance(0.12);
    my @ex;
    if (chance(0.4)) {
        my @pool = @EXCLUDES;
        for (1 .. pick(1, 1, 2)) {
            my $i = int(rand(@pool));
            push @ex, splice(@pool, $i, 1);
        }
    }
    $g->{excludes} = \@ex;
    $g->{threads} = pick(1, 4, 8, 8);

    my $dbase = pick('dst', 'out');
    my @snames = map { "src$_" } 1 .. $nsrc;
    # a source whose name starts with the destination's (dst -> dstx)
    $snames[0] = $dbase . pick('x', '.old', '-1') if chance(0.2);

    # siblings: outside the destination, never to be touched
    for my $side ('L', 'S') {
        make_path("$g->{root}{$side}/sib");
        write_file("$g->{root}{$side}/sib/keep.txt", rbytes(50), rtime());
        write_file("$g->{root}{$side}/$dbase.bak", rbytes(10), rtime());
    }
    if ($dside eq 'L') {
        # a sibling whose name differs from the destination's only in case
        make_path("$g->{root}{L}/" . ucfirst($dbase));
        write_file("$g->{root}{L}/" . ucfirst($dbase) . "/Keep.txt", rbytes(60), rtime());
    }

    my @src;
    my $drel;
    my $inner;
    if ($overlap eq 'src_in_dst') {
        $drel = $dbase;
        make_path("$g->{root}{$dside}/$drel");
        $inner = chance(0.3) ? 'nest/inner' : 'inner';
        my $at = int(rand($nsrc));
        for my $i (0 .. $nsrc - 1) {
            if ($i == $at) {
                push @src, gen_source($g, $sside, "$drel/$inner", 'd');
            } else {
                push @src, gen_source($g, $sside, $snames[$i], chance(0.15) ? 'f' : 'd');
            }
        }
    } elsif ($overlap eq 'dst_in_src') {
        for my $i (0 .. $nsrc - 1) {
            push @src, gen_source($g, $sside, $snames[$i], $i == 0 ? 'd' : (chance(0.15) ? 'f' : 'd'));
        }
        my $s0 = $src[0]{rel};
        my @dirs = grep { -d "$g->{root}{$sside}/$_" } map { "$s0/$_" } sub_dirs("$g->{root}{$sside}/$s0");
        my $r = rand();
        if ($r < 0.2) { $drel = $s0 }
        elsif ($r < 0.5 && @dirs) { $drel = pick(@dirs) }
        elsif ($r < 0.75) { $drel = "$s0/$dbase" }
        else { $drel = "$s0/new/$dbase" }
    } else {
        for my $i (0 .. $nsrc - 1) {
            push @src, gen_source($g, $sside, $snames[$i], chance(0.15) ? 'f' : 'd');
        }
        my $r = rand();
        if ($r < 0.2) { $drel = $dbase }
        elsif ($r < 0.35) { $drel = "new/a/$dbase" }
        else { $drel = $dbase; make_path("$g->{root}{$dside}/$drel") }
    }
    $g->{sources} = \@src;
    $g->{dest} = { side => $dside, rel => $drel };
    if ($overlap ne 'dst_in_src' && -d "$g->{root}{$dside}/$drel" && chance($overlap eq 'none' ? 0.85 : 1)) {
        gen_dest_content($g, $dside, $drel, $inner);
    }

    my @args = ('--json', '-j', $g->{threads});
    push @args, '--mirror' if $g->{mirror};
    push @args, '--dry-run' if $g->{dry};
    push @args, map { ('--exclude', $_) } @ex;
    push @args, map { render($g, $_->{side}, $_->{rel}) } @src;
    my $dest = render($g, $dside, $drel);
    $dest .= '/' if (grep { $_->{type} eq 'f' } @src) || chance(0.15);
    push @args, $dest;
    $g->{args} = \@args;
    $g->{rerun} = chance(0.25);
    return $g;
}
sub sub_dirs {
    my ($abs) = @_;
    my @out;
    my @stack = ('');
    while (@stack) {
        my $r = pop @stack;
        opendir(my $dh, $r eq '' ? $abs : "$abs/$r") or next;
        for my $e (sort grep { !/^\.\.?$/ } readdir($dh)) {
            my $er = joinp($r, $e);
            if (-d "$abs/$er") { push @out, $er; push @stack, $er }
        }
    }
    return @out;
}

# --------------------------------------------------------------- snapshots

sub md5_of {
    my $p = shift;
    open(my $fh, '<:raw', $p) or return "unreadable: $!";
    return Digest::MD5->new->addfile($fh)->hexdigest;
}
# snap(ROOT): { rel => {t => f|d|o, size, mtime, md5} } of every entry.
sub snap {
    my ($root) = @_;
    my %s;
    my @stack = ('');
    while (@stack) {
        my $r = pop @stack;
        opendir(my $dh, $r eq '' ? $root : "$root/$r") or next;
        for my $e (grep { !/^\.\.?$/ } readdir($dh)) {
            my $er = joinp($r, $e);
            my $p = "$root/$er";
            my @st = lstat($p) or next;
            if (-d _) { $s{$er} = { t => 'd' }; push @stack, $er }
            elsif (-f _) { $s{$er} = { t => 'f', size => $st[7], mtime => $st[9], md5 => md5_of($p) } }
            else { $s{$er} = { t => 'o' } }
        }
    }
    return \%s;
}
sub desc {
    my $e = shift;
    return 'nothing' unless $e;
    return 'a directory' if $e->{t} eq 'd';
    return 'a special entry' if $e->{t} eq 'o';
    return "a file of $e->{size} bytes (md5 " . substr($e->{md5}, 0, 8) . ")";
}
sub same_entry {
    my ($a, $b, $times) = @_;
    return 1 if !$a && !$b;
    return 0 if !$a || !$b || $a->{t} ne $b->{t};
    return 1 if $a->{t} ne 'f';
    return 0 if $a->{md5} ne $b->{md5} || $a->{size} != $b->{size};
    return 0 if $times && $a->{mtime} != $b->{mtime};
    return 1;
}

# ---------------------------------------------------------------- checking

# rsync-style match of the test's patterns (a subset with one reading):
# '*.log' any entry whose name ends so; 'cache/' a directory named cache;
# '/top' the entry top at the top of the transfer.
sub pat_match {
    my ($pat, $rel, $t) = @_;
    my $b = base($rel);
    return $b =~ /\.log$/ if $pat eq '*.log';
    return $b =~ /\.bin$/ if $pat eq '*.bin';
    return $t eq 'd' && $b eq 'cache' if $pat eq 'cache/';
    return $rel eq 'top' if $pat eq '/top';
    die "random_trees.pl: pattern $pat not modelled\n";
}
# excluded(G, REL, TYPE): REL (of TYPE; its parents are directories) or a
# directory above it matches an --exclude.
sub excluded {
    my ($g, $rel, $t) = @_;
    my @c = split m{/}, $rel;
    for my $i (0 .. $#c) {
        my $p = join('/', @c[0 .. $i]);
        my $pt = $i == $#c ? $t : 'd';
        for my $pat (@{ $g->{excludes} }) {
            return 1 if pat_match($pat, $p, $pt);
        }
    }
    return 0;
}
sub under {    # A is B or below it (B '' is the top)
    my ($a, $b) = @_;
    return 1 if $b eq '';
    return $a eq $b || index($a, "$b/") == 0;
}
sub has_tmp { scalar grep { $_ =~ $TMP_RE } split m{/}, $_[0] }

sub expected_refusal {
    my ($g) = @_;
    my $d = $g->{dest};
    for my $s (@{ $g->{sources} }) {
        next if $s->{side} ne $d->{side};
        my ($sr, $dr) = ($s->{rel}, $d->{rel});
        ($sr, $dr) = (lc $sr, lc $dr) if $d->{side} eq 'S';
        return "the destination is inside source $s->{rel}" if $s->{type} eq 'd' && under($dr, $sr);
        return "source $s->{rel} is inside the destination, with --mirror" if $g->{mirror} && under($sr, $dr);
    }
    return undef;
}

sub check {
    my ($g, $before, $after, $rc, $out, $err) = @_;
    my @p;    # problems
    my $d = $g->{dest};
    my $ci = $d->{side} eq 'S';
    my $K = $ci ? sub { lc $_[0] } : sub { $_[0] };
    my $refuse = expected_refusal($g);
    my $first_err = (split /\n/, $err)[0] // '';

    if ($rc != 0 && $rc != 1 && $rc != 2) {
        push @p, "exit status $rc (0, 1 or 2 expected); stderr: $first_err";
    }
    my $unchanged_all = 0;
    if (defined $refuse) {
        if ($rc != 2) { push @p, "not refused (exit $rc, expected 2): $refuse" }
        else { $unchanged_all = 1 }
    } elsif ($rc == 2) {
        push @p, "refused (exit 2) though nothing overlaps: $first_err";
        $unchanged_all = 1;
    }
    $unchanged_all = 1 if $g->{dry};
    if ($unchanged_all) {
        my $why = $g->{dry} && $rc != 2 ? '--dry-run' : 'refused run';
        for my $side ('L', 'S') {
            my ($b, $a) = ($before->{$side}, $after->{$side});
            for my $r (sort keys %{ { %$b, %$a } }) {
                push @p, "$why changed $side:$r: " . desc($b->{$r}) . " -> " . desc($a->{$r})
                    unless same_entry($b->{$r}, $a->{$r}, 1);
            }
        }
        return @p if $rc == 2;
    }

    # The JSON summary and the exit status.
    my $j;
    my @fail;
    if ($rc == 0 || $rc == 1) {
        $j = eval { JSON::PP->new->decode($out) };
        if (!$j || ref($j) ne 'HASH') {
            push @p, "stdout is not one JSON object: " . substr($out, 0, 200);
            $j = {};
        }
        my $fl = $j->{failures};
        if (defined $fl && ref($fl) ne 'ARRAY') { push @p, "failures is not an array"; $fl = [] }
        for my $f (@{ $fl // [] }) {
            my $fp = ref($f) eq 'HASH' ? $f->{path} : undef;
            if (!defined $fp) { push @p, "a failure without a path"; next }
            $fp =~ s{^\./}{};
            $fp =~ s{/+$}{};
            $fp = '' if $fp eq '.';
            push @fail, { path => $fp, key => $K->($fp), reason => $f->{reason} // '' };
        }
        my $nf = $j->{files_failed} // 0;
        if ($rc == 0 && (@fail || $nf)) {
            push @p, "exit 0 with $nf failed and " . scalar(@fail) . " failures listed";
        }
        if ($rc == 1 && !@fail) {
            push @p, "exit 1 but no failure listed (files_failed $nf); stderr: $first_err";
        }
    }
    return @p if $g->{dry};

    # Sources: every entry, its path in the destination and its key there.
    my (%fkey, %dkey, %dspell);
    for my $i (0 .. $#{ $g->{sources} }) {
        my $s = $g->{sources}[$i];
        my $b = $before->{ $s->{side} };
        my @ents;
        if ($s->{type} eq 'f') {
            push @ents, [base($s->{rel}), $b->{ $s->{rel} }];
        } else {
            for my $r (keys %$b) {
                next unless index($r, "$s->{rel}/") == 0;
                push @ents, [substr($r, length($s->{rel}) + 1), $b->{$r}];
            }
        }
        for my $e (@ents) {
            my ($rel, $ent) = @$e;
            next if excluded($g, $rel, $ent->{t});
            my $k = $K->($rel);
            if ($ent->{t} eq 'f') {
                push @{ $fkey{$k} }, { src => $i, rel => $rel, md5 => $ent->{md5}, size => $ent->{size},
                    where => "$s->{side}:" . ($s->{type} eq 'f' ? $s->{rel} : "$s->{rel}/$rel") };
            } elsif ($ent->{t} eq 'd') {
                $dkey{$k}{$i} = 1;
                $dspell{$k}{$rel} = 1;
            }
        }
    }
    # Destination entries by key, before and after.
    my (%bd, %ad, @tmps);
    my $droot = $d->{rel};
    for my $w (['b', $before->{ $d->{side} }, \%bd], ['a', $after->{ $d->{side} }, \%ad]) {
        my ($when, $s, $m) = @$w;
        for my $r (keys %$s) {
            next unless index($K->($r), $K->($droot) . '/') == 0;
            my $rel = substr($r, length($droot) + 1);
            if (has_tmp($rel)) { push @tmps, $rel if $when eq 'a'; next }
            push @{ $m->{ $K->($rel) } }, { %{ $s->{$r} }, rel => $rel };
        }
    }
    for my $k (sort keys %ad) {
        push @p, "destination holds " . join(' and ', map { $_->{rel} } @{ $ad{$k} }) . ", names that differ only in case"
            if @{ $ad{$k} } > 1;
    }
    # Conflicts: two source files of one key, a file and a directory of one
    # key, directories of one key spelled two ways, a source entry whose
    # destination entry has the other type.
    my (%collide, %conflict);
    for my $k (keys %fkey) {
        if (@{ $fkey{$k} } > 1 || $dkey{$k}) { $collide{$k} = 1; $conflict{$k} = 1 }
        $conflict{$k} = 1 if $bd{$k} && $bd{$k}[0]{t} ne 'f';
    }
    for my $k (keys %dkey) {
        $conflict{$k} = 1 if keys %{ $dspell{$k} } > 1;
        $conflict{$k} = 1 if $bd{$k} && $bd{$k}[0]{t} ne 'd';
    }
    my $covered = sub {
        my $k = shift;
        for my $f (@fail) { return $f if under($k, $f->{key}) }
        return undef;
    };

    # 1. Every source file at its destination with its bytes, or reported.
    for my $k (sort keys %fkey) {
        for my $f (@{ $fkey{$k} }) {
            my $a = $ad{$k} ? $ad{$k}[0] : undef;
            if ($collide{$k}) {
                next if $covered->($k);
                my @o = map { $_->{where} } grep { $_ != $f } @{ $fkey{$k} };
                push @p, "collision not reported: $f->{where} -> $f->{rel} (" .
                    (@o ? "also from @o" : "a source directory of that name") . "); destination has " . desc($a);
                next;
            }
            next if $a && $a->{t} eq 'f' && $a->{md5} eq $f->{md5};
            next if $covered->($k);
            push @p, "not copied and not reported: $f->{where} -> $f->{rel}; destination has " . desc($a);
        }
    }
    # A failure of a source entry needs a conflict for its reason.
    for my $f (@fail) {
        my $k = $f->{key};
        next unless $fkey{$k} || $dkey{$k} || $k eq '';
        next if grep { under($_, $k) || under($k, $_) } keys %conflict;
        push @p, "failure with no conflict behind it: $f->{path}: $f->{reason}";
    }

    # 3. Destination entries: unchanged, or changed as asked.
    my $deletable = sub {
        my ($k, $e) = @_;
        return 'no --mirror' unless $g->{mirror};
        return 'a source has it' if ($e->{t} eq 'f' ? $fkey{$k} : $dkey{$k});
        return 'excluded' if excluded($g, $e->{rel}, $e->{t});
        # A failed copy or listing (a failure of a source entry) stops the
        # deletions in its directory and below; a failed deletion does not.
        my $pk = parent($k);
        for my $f (@fail) {
            next unless $fkey{ $f->{key} } || $dkey{ $f->{key} } || $f->{key} eq '';
            return "a failure in its directory ($f->{path})" if under($pk, $f->{key}) || parent($f->{key}) eq $pk;
        }
        return undef;
    };
    for my $k (sort keys %{ { %bd, %ad } }) {
        my $b = $bd{$k} ? $bd{$k}[0] : undef;
        my $a = $ad{$k} ? $ad{$k}[0] : undef;
        next if same_entry($b, $a, 0);
        my $rel = ($a // $b)->{rel};
        if ($collide{$k}) {
            push @p, "collision at $rel, yet the destination changed: " . desc($b) . " -> " . desc($a);
            next;
        }
        if ($b && (!$a || $a->{t} ne $b->{t})) {
            my $why = $deletable->($k, $b);
            # With --mirror, an entry the sources have under this name as the
            # other type is replaced as part of copying that entry (a failure
            # elsewhere in the directory does not stop it); an excluded one
            # is still left alone.
            my $other = $b->{t} eq 'f' ? $dkey{$k} : $fkey{$k};
            $why = undef if defined $why && $why =~ /^a failure in its directory/ && $other && $a && $a->{t} ne $b->{t};
            push @p, "destination $b->{rel} (" . desc($b) . ") deleted ($why)" . ($a ? ", now " . desc($a) : '')
                if defined $why;
        }
        next unless $a;
        if ($a->{t} eq 'f') {
            my $src = $fkey{$k};
            next if $src && @$src == 1 && $src->[0]{md5} eq $a->{md5};
            push @p, "destination $rel is now " . desc($a) . ", which no source file of that name holds (before: " . desc($b) . ")";
        } elsif ($a->{t} eq 'd') {
            next if $dkey{$k};
            push @p, "destination $rel is now a directory that no source has (before: " . desc($b) . ")";
        } else {
            push @p, "destination $rel is now " . desc($a);
        }
    }

    # 2. Nothing outside the destination changed; the sources did not.
    my @anc;
    for (my $x = parent($droot); ; $x = parent($x)) { push @anc, $x; last if $x eq '' }
    for my $side ('L', 'S') {
        my ($b, $a) = ($before->{$side}, $after->{$side});
        for my $r (sort keys %{ { %$b, %$a } }) {
            if ($side eq $d->{side}) {
                next if under($K->($r), $K->($droot));
                # the destination's missing parents may appear
                next if !$b->{$r} && $a->{$r} && $a->{$r}{t} eq 'd' && grep { $K->($_) eq $K->($r) } @anc;
                # staging next to the destination (checked below)
                if (grep { under($K->($r), $K->($_)) && ((split m{/}, substr("$r/", $_ eq "" ? 0 : length($_) + 1))[0] // '') =~ $TMP_RE } @anc) {
                    push @tmps, "../$r" if !$b->{$r};
                    next;
                }
            }
            push @p, "outside the destination, $side:$r changed: " . desc($b->{$r}) . " -> " . desc($a->{$r})
                unless same_entry($b->{$r}, $a->{$r}, 1);
        }
    }
    for my $s (@{ $g->{sources} }) {
        next unless $s->{side} eq $d->{side} && under($K->($s->{rel}), $K->($droot));
        my ($b, $a) = ($before->{ $s->{side} }, $after->{ $s->{side} });
        for my $r (sort keys %{ { %$b, %$a } }) {
            next unless under($r, $s->{rel});
            push @p, "source entry $s->{side}:$r changed: " . desc($b->{$r}) . " -> " . desc($a->{$r})
                unless same_entry($b->{$r}, $a->{$r}, 1);
        }
    }

    # 5. No staging left by a run that exited 0.
    if ($rc == 0 && @tmps) {
        my %u = map { (my $t = $_) =~ s{^((?:\.\./)?(?:[^/]*/)*?\.smbcopy-[^/]*\.tmp).*}{$1}; ($t => 1) } @tmps;
        push @p, "exit 0 left staging behind: " . join(', ', sort keys %u);
    }
    return @p;
}

# --------------------------------------------------------------------- runs

# untie_times(G, BEFORE): a destination file with the size and time of the
# source file of its name but other bytes would rightly be skipped as up to
# date; give it another time (the generator avoids this; chance could not).
sub untie_times {
    my ($g, $before) = @_;
    my $d = $g->{dest};
    my $K = $d->{side} eq "S" ? sub { lc $_[0] } : sub { $_[0] };
    my %src;
    for my $s (@{ $g->{sources} }) {
        my $b = $before->{ $s->{side} };
        if ($s->{type} eq "f") { push @{ $src{ $K->(base($s->{rel})) } }, $b->{ $s->{rel} }; next }
        for my $r (keys %$b) {
            push @{ $src{ $K->(substr($r, length($s->{rel}) + 1)) } }, $b->{$r}
                if index($r, "$s->{rel}/") == 0 && $b->{$r}{t} eq "f";
        }
    }
    my $n = 0;
    my $db = $before->{ $d->{side} };
    for my $r (sort keys %$db) {
        next unless index($r, "$d->{rel}/") == 0 && $db->{$r}{t} eq "f";
        for my $e (@{ $src{ $K->(substr($r, length($d->{rel}) + 1)) } // [] }) {
            next unless $e->{size} == $db->{$r}{size} && $e->{mtime} == $db->{$r}{mtime} && $e->{md5} ne $db->{$r}{md5};
            my $t = $db->{$r}{mtime} + 86400;
            utime($t, $t, "$g->{root}{ $d->{side} }/$r") or die "random_trees.pl: utime: $!\n";
            $n++;
            last;
        }
    }
    return $n;
}

# exec_cli(CMD, TAG): run the command; (exit status, stdout, stderr, seconds).
sub exec_cli {
    my ($cmd, $tag) = @_;
    my ($of, $ef) = ("$work/out/$tag.out", "$work/out/$tag.err");
    my $t0 = time();
    my $pid = fork() // die "random_trees.pl: fork: $!\n";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $of);
        open(STDERR, '>', $ef);
        exec('timeout', '60', @$cmd) or exit 127;
    }
    waitpid($pid, 0);
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    my $secs = time() - $t0;
    my $slurp = sub { open(my $fh, '<:raw', $_[0]) or return ''; local $/; my $s = <$fh>; $s // '' };
    my ($out, $err) = ($slurp->($of), $slurp->($ef));
    unlink($of, $ef);
    return ($rc, $out, $err, $secs);
}
sub fail_paths {
    my $j = eval { JSON::PP->new->decode($_[0]) };
    return () unless ref($j) eq 'HASH' && ref($j->{failures}) eq 'ARRAY';
    return map { ref($_) eq 'HASH' && defined $_->{path} ? $_->{path} : () } @{ $j->{failures} };
}

sub run_one {
    my ($seed, $no) = @_;
    my $g = generate($seed);
    my %before = (L => snap($g->{root}{L}), S => snap($g->{root}{S}));
    %before = (L => snap($g->{root}{L}), S => snap($g->{root}{S})) if untie_times($g, \%before);
    my @cmd = ($cli, '-A', $auth, '--no-progress', @{ $g->{args} });
    my ($rc, $out, $err, $secs) = exec_cli(\@cmd, "r$seed");
    my %after = (L => snap($g->{root}{L}), S => snap($g->{root}{S}));
    my @p = check($g, \%before, \%after, $rc, $out, $err);

    # The same command again (some runs): the same checks, no failure that
    # the first run did not have, and after a clean run nothing to do.
    my ($rc2, $out2, $err2);
    if ($g->{rerun} && !$g->{dry} && $rc != 2) {
        ($rc2, $out2, $err2) = exec_cli(\@cmd, "r$seed-again");
        my %again = (L => snap($g->{root}{L}), S => snap($g->{root}{S}));
        push @p, map { "rerun: $_" } check($g, \%after, \%again, $rc2, $out2, $err2);
        my %had = map { (lc($_) => 1) } fail_paths($out);
        my @new = grep { !$had{ lc $_ } } fail_paths($out2);
        push @p, "rerun: failures the first run did not have: @new" if @new;
        if ($rc == 0) {
            my $j2 = eval { JSON::PP->new->decode($out2) } || {};
            for my $f ('files_copied', 'files_deleted', 'dirs_deleted') {
                push @p, "rerun after a clean run: $f is " . ($j2->{$f} // 'missing') . ", expected 0"
                    if ($j2->{$f} // -1) != 0;
            }
        }
    }

    my $nfile = 0;
    for my $s (@{ $g->{sources} }) {
        $nfile += $s->{type} eq 'f' ? 1 : scalar grep { index($_, "$s->{rel}/") == 0 && $before{ $s->{side} }{$_}{t} eq 'f' } keys %{ $before{ $s->{side} } };
    }
    my $j = eval { JSON::PP->new->decode($out) } || {};
    my $what = sprintf('%-5s %d src %2d files%s%s%s%s', $g->{mode}, scalar @{ $g->{sources} }, $nfile,
        $g->{mirror} ? ' mirror' : '', $g->{dry} ? ' dry-run' : '',
        @{ $g->{excludes} } ? " exclude " . join(',', @{ $g->{excludes} }) : '',
        $g->{overlap} ne 'none' ? " $g->{overlap}" : '');
    my $res = $rc == 2 ? 'refused' : sprintf('copied %s failed %s', $j->{files_copied} // '?', $j->{files_failed} // '?');
    $res .= ", again exit $rc2" if defined $rc2;
    printf "run %d seed %d: %s: exit %d, %s, %.2f s: %s\n", $no, $seed, $what, $rc, $res, $secs, @p ? 'FAIL' : 'ok';
    if ($verbose && !@p) {
        print "  command: ", join(' ', map { shq($_) } @cmd), "\n";
        print "  failures: ", JSON::PP->new->canonical->encode($j->{failures} // []), "\n";
    }
    if (@p) {
        print "  replay: SMBCOPY_RANDOM_SEED=$seed SMBCOPY_RANDOM_RUNS=1 (SMBCOPY_TEST_KEEP=1 keeps the trees)\n";
        print "  command: ", join(' ', map { shq($_) } @cmd), "\n";
        print "  local root $g->{root}{L}, share root $g->{root}{S}\n";
        my $max = $ENV{SMBCOPY_RANDOM_MAX_LINES} // 25;
        my $n = 0;
        for (@p) { last if $n++ >= $max; print "  - $_\n" }
        print "  - ... and ", @p - $max, " more\n" if @p > $max;
        for my $e ([$err, 'stderr'], [$err2 // '', 'rerun stderr']) {
            my @e = split /\n/, $e->[0];
            print "  $e->[1]: $_\n" for @e[0 .. ($#e < 5 ? $#e : 5)];
        }
    }
    if (!@p || !$keep) {
        remove_tree($g->{root}{L}, $g->{root}{S});
        unlink($g->{link});
    }
    return scalar @p;
}

make_path("$work/out", "$work/links");
print "cli_random: $runs runs from seed $base (SMBCOPY_RANDOM_SEED=$base replays them all)\n";
my @failed;
my $t0 = time();
for my $i (0 .. $runs - 1) {
    push @failed, $base + $i if run_one($base + $i, $i + 1);
}
printf "cli_random: %d of %d runs failed, %.1f s%s\n", scalar @failed, $runs, time() - $t0,
    @failed ? "; seeds: @failed" : "";
my $failed = @failed;
exit($failed ? 1 : 0);
