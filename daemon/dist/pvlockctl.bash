# SPDX-License-Identifier: GPL-2.0
# bash completion for pvlockctl(8). Parameter names come from
# "pvlockctl help params" (the spec compiled into the binary) and VM names
# from "pvlockctl vm list", so nothing here goes stale.

_pvlockctl_params()	# _pvlockctl_params COLUMN(2 guest, 3 host, 4 per VM) [read]
{
	pvlockctl help params 2>/dev/null |
		awk -v c="$1" -v r="$2" 'NR > 1 && ($c == "set" || (r && $c == "read")) { print $1 }'
}

_pvlockctl_vms()
{
	pvlockctl -o name vm list 2>/dev/null | tail -n +2
}

_pvlockctl()
{
	local cur prev words cword i obj= vm= fam=
	_init_completion || return

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-G|--guest) fam=guest ;;
		-H|--host) fam=host ;;
		-o|--output) ((i++)) ;;
		-*) ;;
		*)
			if [[ -z $obj ]]; then
				obj=${words[i]}
			elif [[ ${words[i]} == vm ]]; then
				vm=1
			fi
			;;
		esac
	done

	if [[ -z $obj ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-j --json -p --pretty -G --guest -H --host -o --output -V --version -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'status vm stats locks get set reset monitor unload help' -- "$cur"))
		fi
		return
	fi

	case $obj in
	vm)
		if [[ $prev == vm ]]; then
			COMPREPLY=($(compgen -W 'list show help' -- "$cur"))
		elif [[ $prev == show ]]; then
			COMPREPLY=($(compgen -W "$(_pvlockctl_vms)" -- "$cur"))
		fi
		;;
	stats)
		case $prev in
		-d|--interval|-n|--count|-f|--fields|-p|--pid) return ;;
		-s|--sort) COMPREPLY=($(compgen -W 'rate total name' -- "$cur")); return ;;
		-g|--guest) COMPREPLY=($(compgen -W "$(_pvlockctl_vms)" -- "$cur")); return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-1 --once -l --log -d --interval -n --count -c --per-vcpu --per-cpu -a --all -b --bpf -s --sort -f --fields -g --guest -p --pid -T --wallclock -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_pvlockctl_vms) help" -- "$cur"))
		fi
		;;
	locks)
		[[ $prev == --top ]] || COMPREPLY=($(compgen -W '--top' -- "$cur"))
		;;
	monitor)
		[[ $prev == -n || $prev == --count || $prev == -t || $prev == --timeout ]] ||
			COMPREPLY=($(compgen -W '-n --count -t --timeout -T --wallclock help' -- "$cur"))
		;;
	unload)
		[[ $prev == -t || $prev == --timeout ]] || COMPREPLY=($(compgen -W '-t --timeout' -- "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W 'params status vm stats locks get set reset monitor unload' -- "$cur"))
		;;
	get|set|reset)
		local col=3
		if [[ $prev == vm ]]; then
			COMPREPLY=($(compgen -W "$(_pvlockctl_vms)" -- "$cur"))
			return
		fi
		[[ $obj == reset ]] && { [[ -z $vm ]] && COMPREPLY=($(compgen -W vm -- "$cur")); return; }
		if [[ $fam == guest ]] || { [[ -z $fam ]] && ! pvlockctl -H status >/dev/null 2>&1; }; then
			col=2
		elif [[ -n $vm ]]; then
			col=4
		fi
		case $prev in
		mode) COMPREPLY=($(compgen -W 'stock adaptive fixed' -- "$cur")); return ;;
		yield|force_queue|cross_vm) COMPREPLY=($(compgen -W 'yes no' -- "$cur")); return ;;
		pinned) COMPREPLY=($(compgen -W 'none all threshold budget threshold,budget' -- "$cur")); return ;;
		esac
		if [[ $obj == set ]] && _pvlockctl_params $col | grep -qx -- "$prev"; then
			return	# a value: nothing to offer
		fi
		local extra=
		[[ $col != 2 && -z $vm ]] && extra=vm
		[[ $obj == set && $col != 2 ]] && extra="$extra --pin"
		COMPREPLY=($(compgen -W "$(_pvlockctl_params $col $([[ $obj == get ]] && echo read)) $extra" -- "$cur"))
		;;
	esac
} &&
complete -F _pvlockctl pvlockctl
