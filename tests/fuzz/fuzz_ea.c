/*
 * Fuzz target: a FileFullEaInformation buffer (MS-FSCC 2.4.15), the output
 * of the QUERY_INFO that smb_get_eas sends, through smb2_ea_list_decode. A
 * list that decodes must hold what the decoder promises: at most
 * SMB_EA_LIST_MAX entries, each name 1 to 255 bytes with no NUL inside,
 * values of at most 65535 bytes lying inside the list's own block (every
 * byte is read, for the sanitizers); a refusal must leave no list. Aborts
 * when an invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helpers_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb_ea_list *l = (smb_ea_list *)&l;
    int rc = smb2_ea_list_decode(data, size, &l);
    if (rc != 0) {
        if ((rc != SMB_ERR_PROTOCOL && rc != SMB_ERR_NO_MEMORY) || l)
            abort();
        return 0;
    }
    if (!l || l->count > SMB_EA_LIST_MAX || (l->count == 0) != (l->eas == NULL))
        abort();
    unsigned sum = 0;
    for (size_t i = 0; i < l->count; i++) {
        size_t n = strlen(l->eas[i].name);
        if (n == 0 || n > 255 || l->eas[i].value_len > UINT16_MAX || (l->eas[i].value_len == 0) != (l->eas[i].value == NULL))
            abort();
        for (size_t j = 0; j < l->eas[i].value_len; j++)
            sum += l->eas[i].value[j];
    }
    (void)sum;
    smb_ea_list_free(l);
    return 0;
}
