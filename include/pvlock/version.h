/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_VERSION_H
#define _PVLOCK_VERSION_H

#define PVLOCK_VERSION			"0.1.0"

#endif
