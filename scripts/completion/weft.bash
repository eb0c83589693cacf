# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for weft: commands, options, option values, .data files.
#
# The commands and options are read from `weft --help` and
# `weft COMMAND --help` of the weft being completed, so they follow the
# binary; only the values of options that take a word from a fixed set are
# listed here (tests/integration/test_install.py checks them against the
# binary). Needs no bash-completion package.

# "weft COMMAND" -> its --help, read once per shell
declare -gA _weft_help_cache

_weft_help()
{
	local key="$1 $2"
	if [[ -z ${_weft_help_cache[$key]+set} ]]; then
		# one line per option: a wrapped description never starts a
		# line that looks like an option
		_weft_help_cache[$key]=$(LC_ALL=C ARGP_HELP_FMT=rmargin=1000 \
			"$1" ${2:+"$2"} --help 2>/dev/null)
	fi
	printf '%s\n' "${_weft_help_cache[$key]}"
}

# The command names: the first word of each line under "Commands:".
_weft_commands()
{
	_weft_help "$1" "" | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}

# Every long option of COMMAND, and "-x --long" pairs of those with a short
# form, from argp's option lines ("  -o, --output=FILE   ...").
_weft_long_options()
{
	_weft_help "$1" "$2" | sed -nE 's/^ +(-[[:alnum:]?], )?(--[[:alnum:]-]+).*/\2/p'
}

# Options that take a value: "--output" and "-o" for "  -o, --output=FILE"
_weft_options_with_value()
{
	_weft_help "$1" "$2" |
		sed -nE 's/^ +((-[[:alnum:]]), )?(--[[:alnum:]-]+)=.*/\2 \3/p'
}

# The words a value may be, for options that take one from a fixed set;
# a trailing comma marks a comma-separated list.
_weft_values()
{
	case "$1 $2" in
	"flame --type") echo "oncpu offcpu wakeup lock" ;;
	"flame --by") echo "process pid thread none" ;;
	"report --format") echo "text json markdown" ;;
	"pprof --by") echo "process pid thread none" ;;
	"diff --format") echo "text json markdown folded svg" ;;
	"diff --type") echo "oncpu offcpu lock wakeup" ;;
	"compare --format") echo "text markdown json csv" ;;
	"compare --task") echo "cpu io mixed" ;;
	"compare --modes") echo ", sync threads gil eventloop procs pool" ;;
	"timeline --by") echo "thread cpu both" ;;
	"critical --format") echo "text json folded" ;;
	"critical --by") echo "thread function lock" ;;
	"record --locks") echo ", futex kernel pthread none" ;;
	"record --unwind") echo "tables fp" ;;
	"stuck --format") echo "text json" ;;
	esac
}

# .data recordings and directories to find them in
_weft_recordings()
{
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -d -- "$1") $(compgen -f -X '!*.data' -- "$1"))
}

# Completes the value of option $3 (long or short) of command $2.
_weft_value()
{
	local weft=$1 sub=$2 opt=$3 cur=$4 long words prefix
	long=$(_weft_options_with_value "$weft" "$sub" |
		awk -v o="$opt" '$1 == o || $2 == o || $NF == o { print $NF; exit }')
	case "$long" in
	--output | --svg)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--keep)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--pid)
		COMPREPLY=($(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur"))
		return
		;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return
		;;
	esac
	words=$(_weft_values "$sub" "$long")
	if [[ $words == ", "* ]]; then
		# a comma-separated list: complete its last item
		words=${words#, }
		prefix=
		[[ $cur == *,* ]] && prefix=${cur%,*},
		COMPREPLY=($(compgen -P "$prefix" -W "$words" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

_weft()
{
	local weft=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
	local sub= i w opt
	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# ~ and variables in the command word, as typed
	[[ $weft == "~/"* ]] && weft=$HOME/${weft#"~/"}

	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w != -* ]]; then
			sub=$w
			break
		fi
	done
	if [[ -z $sub ]]; then
		COMPREPLY=($(compgen -W "$(_weft_commands "$weft") --help --version" -- "$cur"))
		return
	fi

	# weft record ... -- CMD: the command and its arguments
	for ((i = i + 1; i < COMP_CWORD; i++)); do
		if [[ $sub == record && ${COMP_WORDS[i]} == -- ]]; then
			if ((i + 1 == COMP_CWORD)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				compopt -o default 2>/dev/null
			fi
			return
		fi
	done

	# --opt=VALUE: bash splits the word at '=' (COMP_WORDBREAKS)
	if [[ $cur == = ]]; then
		opt=$prev
		cur=
	elif [[ $prev == = && COMP_CWORD -ge 2 ]]; then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $prev == -* ]] && _weft_options_with_value "$weft" "$sub" |
		awk -v o="$prev" '$1 == o || $2 == o { found = 1 } END { exit !found }'; then
		opt=$prev
	fi
	if [[ -n $opt ]]; then
		_weft_value "$weft" "$sub" "$opt" "$cur"
		return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_weft_long_options "$weft" "$sub")" -- "$cur"))
		[[ $sub == record ]] && COMPREPLY+=($(compgen -W "--" -- "$cur"))
		return
	fi
	case $sub in
	report | flame | timeline | compare | pprof | diff | critical) _weft_recordings "$cur" ;;
	esac
}

complete -F _weft weft
